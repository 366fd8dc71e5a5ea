/**
 * Peak-RSS reporter for machines without GNU time: loaded into a child with
 * `node --import <this file>`, it writes process.resourceUsage().maxRSS (KiB)
 * to $BENCH_MAXRSS_FILE when the process exits, whatever its exit status.
 */
import { writeFileSync } from "node:fs";

const out = process.env["BENCH_MAXRSS_FILE"];
if (out) process.on("exit", () => writeFileSync(out, `${process.resourceUsage().maxRSS}\n`));
