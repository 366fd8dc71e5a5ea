/** Argument parsing on node:util parseArgs, with usage errors that exit 2. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CellucidError, type UsageErrorCode } from "../format/errors.js";

/** A command line the CLI cannot run: exit 2 with a pointer to --help. */
export class UsageError extends CellucidError<UsageErrorCode> {
  constructor(message: string) {
    super("USAGE", message);
  }
}

export type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export const COMMON_OPTIONS: Options = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
};

export function parse(argv: string[], options: Options, positionalNames: string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (!values["help"] && parsed.positionals.length !== positionalNames.length)
    throw new UsageError(`expected ${positionalNames.map((p) => p.toUpperCase()).join(" ")}, got ${parsed.positionals.length} argument(s)`);
  return { values, positionals: parsed.positionals };
}

export function choice<T extends string>(value: string | boolean | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !allowed.includes(value as T))
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got '${String(value)}'`);
  return value as T;
}
