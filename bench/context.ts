/** What every benchmark section gets from the runner. */
import { fileURLToPath } from "node:url";
import type { ChildRunner } from "./child.js";
import type { Report } from "./report.js";

export interface BenchContext {
  report: Report;
  /** A fresh directory of the section's own under the run's temp dir; removed after the section. */
  dir: string;
  children: ChildRunner;
}

/** The compiled CLI (dist/src/cli/main.js), as users run it. */
export const CLI_PATH = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));

export interface Section {
  title: string;
  run(ctx: BenchContext): Promise<void>;
}
