/** Timing helpers for in-process measurements. */

/** Milliseconds on a monotonic clock. */
export function now(): number {
  return performance.now();
}

/**
 * Collects garbage when node runs with --expose-gc (as `npm run bench` does),
 * so that one run's garbage is not collected on the next run's clock.
 */
export function collectGarbage(): void {
  globalThis.gc?.();
}

export interface RepeatOptions {
  /** Untimed runs first, so the code is optimised before it is measured. */
  warmup: number;
  runs: number;
}

/** Runs `fn` warmup + runs times and returns the timed durations in ms. */
export async function timeRuns(fn: () => unknown, opts: RepeatOptions): Promise<number[]> {
  for (let i = 0; i < opts.warmup; i++) {
    await fn();
    collectGarbage();
  }
  const times: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    collectGarbage();
    const t0 = now();
    await fn();
    times.push(now() - t0);
  }
  return times;
}

/**
 * Like timeRuns for several functions, alternating them run by run, so that a
 * change in machine load (other jobs on a shared box) hits all of them alike.
 */
export async function timeInterleaved(fns: (() => unknown)[], opts: RepeatOptions): Promise<number[][]> {
  for (let i = 0; i < opts.warmup; i++) {
    for (const fn of fns) {
      await fn();
      collectGarbage();
    }
  }
  const times: number[][] = fns.map(() => []);
  for (let i = 0; i < opts.runs; i++) {
    for (const [j, fn] of fns.entries()) {
      collectGarbage();
      const t0 = now();
      await fn();
      times[j]!.push(now() - t0);
    }
  }
  return times;
}

export function best(values: number[]): number {
  return Math.min(...values);
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
