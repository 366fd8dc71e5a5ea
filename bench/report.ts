/**
 * Human-readable benchmark output: one line per figure, each next to its
 * target and a PASS/MISS mark, plus a summary at the end. Missing a target is
 * a result, not a failure: only crashed sections make the run exit non-zero.
 */

export interface Check {
  section: string;
  label: string;
  value: string;
  target: string;
  pass: boolean;
}

const LABEL_WIDTH = 50;
const VALUE_WIDTH = 24;
const TARGET_WIDTH = 22;

export class Report {
  private readonly checks: Check[] = [];
  private readonly crashed: { section: string; error: unknown }[] = [];
  private current = "";

  section(title: string, subtitle?: string): void {
    this.current = title;
    console.log(`\n${title}`);
    if (subtitle) console.log(`  ${subtitle}`);
  }

  /** A figure with a target: printed with PASS or MISS, and kept for the summary. */
  check(label: string, value: string, target: string, pass: boolean): void {
    this.checks.push({ section: this.current, label, value, target, pass });
    console.log(`  ${label.padEnd(LABEL_WIDTH)} ${value.padStart(VALUE_WIDTH)}   ${target.padEnd(TARGET_WIDTH)} ${pass ? "PASS" : "MISS"}`);
  }

  /** Context for reading the figures (set-up sizes, baselines, breakdowns); no verdict. */
  info(label: string, value = ""): void {
    console.log(value ? `  ${label.padEnd(LABEL_WIDTH)} ${value.padStart(VALUE_WIDTH)}` : `  ${label}`);
  }

  note(text: string): void {
    console.log(`  · ${text}`);
  }

  crash(section: string, error: unknown): void {
    this.crashed.push({ section, error });
    console.log(`  CRASHED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }

  get hasCrashes(): boolean {
    return this.crashed.length > 0;
  }

  summary(totalSeconds: number): void {
    const passed = this.checks.filter((c) => c.pass).length;
    console.log(`\nSummary (${totalSeconds.toFixed(0)} s)`);
    for (const c of this.checks)
      console.log(`  ${c.pass ? "PASS" : "MISS"}  ${`${c.section.split(".")[0]}. ${c.label}`.padEnd(LABEL_WIDTH + 4)} ${c.value.padStart(VALUE_WIDTH)}   ${c.target}`);
    for (const c of this.crashed) console.log(`  CRASH ${c.section}`);
    console.log(`  ${passed} PASS, ${this.checks.length - passed} MISS${this.crashed.length ? `, ${this.crashed.length} crashed section(s)` : ""}`);
  }
}

/** 12.3 style numbers, with thousands separators for large ones. */
export function num(n: number, digits = 1): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Decimal megabytes (10^6), the unit of every MB and MB/s figure here. */
export function mb(bytes: number, digits = 1): string {
  return `${num(bytes / 1e6, digits)} MB`;
}

export function ms(milliseconds: number, digits = 1): string {
  return `${num(milliseconds, digits)} ms`;
}
