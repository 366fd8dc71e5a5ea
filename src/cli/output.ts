/** Human output helpers: aligned tables, sizes, counts, and a TTY-only progress bar. */

export interface Io {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

export function table(headers: string[], rows: (string | number)[][], rightAlign: number[] = []): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => [...(r[c] ?? "")].length)));
  return cells
    .map((r) =>
      r
        .map((cell, c) => {
          const pad = " ".repeat(widths[c]! - [...cell].length);
          return rightAlign.includes(c) ? pad + cell : cell + pad;
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export { formatBytes as bytes } from "../anndata/fs-errors.js";

/** 1234567 → "1,234,567". Not toLocaleString: its first call loads ICU data, ~10 ms of inspect's start-up. */
export function count(n: number): string {
  if (!Number.isInteger(n)) return String(n);
  const digits = String(Math.abs(n));
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += "," + digits.slice(i, i + 3);
  return n < 0 ? "-" + out : out;
}

/** Progress on stderr, only on a TTY, only once the work has taken more than a second. */
export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private shown = false;
  constructor(
    private readonly io: Io,
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}

  static for(io: Io, label: string, quiet: boolean): Progress {
    return new Progress(io, label, !quiet && io.err.isTTY === true);
  }

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.start < 1000 || now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    this.io.err.write(`\r${this.label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%`);
  }

  finish(): void {
    if (this.shown) this.io.err.write("\r\x1b[K");
  }
}
