/**
 * Section 1: in-process decode throughput of the two hot codecs, on 10M
 * entries: delta-uvarint index sets (decodeIndexSet) and user-defined codes
 * (decodeCodes). Best of several runs after warm-up, output allocation
 * included, since every caller of these APIs pays for it.
 */
import { decodeCodes, decodeIndexSet, encodeCodes, encodeIndexSet, type CodesArray } from "../src/node/index.js";
import type { Section } from "./context.js";
import { geometricGap, indicesFromGaps, runCodes, scatteredCodes, seededRandom } from "./data.js";
import { mb, ms, num } from "./report.js";
import { best, timeRuns } from "./timing.js";

const N = 10_000_000;
const TARGET_M_PER_S = 150;
const REPEAT = { warmup: 3, runs: 7 };

function sameArray(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function shareOfOneByteGaps(indices: Uint32Array): number {
  let small = indices[0]! < 0x80 ? 1 : 0;
  for (let i = 1; i < indices.length; i++) if (indices[i]! - indices[i - 1]! < 0x80) small++;
  return small / indices.length;
}

export const decodeSection: Section = {
  title: "1. Decode throughput",
  async run({ report }) {
    report.section(this.title, `${num(N, 0)} entries per decode, best of ${REPEAT.runs} runs after ${REPEAT.warmup} warm-up runs, output allocation included`);
    report.note("reference: the Python reader decodes about 5 M indices/s");
    const random = seededRandom(1);
    const indexSets = [
      {
        label: "index set, realistic gaps",
        // Cells picked densely inside clusters (mean gap 2.5) with a jump between clusters now and then.
        indices: indicesFromGaps(N, () => (random() < 0.01 ? 128 + Math.floor(random() * 1920) : geometricGap(random, 2.5))),
      },
      {
        label: "index set, mixed 1-/2-byte gaps (random, ~50/50)",
        // A sparse lasso: one- and two-byte gaps in random order, the worst case for branch prediction.
        indices: indicesFromGaps(N, () => (random() < 0.5 ? 1 + Math.floor(random() * 127) : 128 + Math.floor(random() * 1000))),
      },
      {
        label: "index set, ~2-byte gaps (128..600)",
        // Sparse selection: every gap needs two varint bytes, the slow path of a one-byte fast path.
        indices: indicesFromGaps(N, () => 128 + Math.floor(random() * 473)),
      },
    ];

    // Output allocation is part of every decode; on some VMs first-touching fresh pages is most of it.
    const touchMs = best(await timeRuns(() => new Uint32Array(N).fill(1), REPEAT));

    for (const { label, indices } of indexSets) {
      const payload = encodeIndexSet(indices);
      const limit = indices[N - 1]! + 1;
      if (!sameArray(decodeIndexSet(payload, { limit }), indices)) throw new Error(`${label}: decodeIndexSet did not return the encoded indices`);
      const bestMs = best(await timeRuns(() => decodeIndexSet(payload, { limit }), REPEAT));
      const rate = N / bestMs / 1e3;
      report.check(label, `${num(rate)} M indices/s`, `≥ ${TARGET_M_PER_S} M/s`, rate >= TARGET_M_PER_S);
      report.info(`  payload, one-byte gaps`, `${mb(payload.length)}, ${num(shareOfOneByteGaps(indices) * 100)}%`);
      report.info(`  time per decode`, ms(bestMs));
      if (bestMs > touchMs)
        report.info(`  excluding output page faults (≈)`, `${num(N / (bestMs - touchMs) / 1e3)} M indices/s`);
    }
    report.info(`first touch of a fresh ${mb(N * 4, 0)} Uint32Array`, ms(touchMs));

    const codeSets: { label: string; codes: CodesArray; encoding: number }[] = [
      { label: "codes, raw u8 (20 categories, scattered)", codes: scatteredCodes(N, 20, random), encoding: 0 },
      { label: "codes, raw u16 (300 categories, scattered)", codes: scatteredCodes(N, 300, random), encoding: 1 },
      { label: "codes, RLE u8 (20 categories, mean run 12)", codes: runCodes(N, 20, 12, random), encoding: 2 },
    ];
    for (const { label, codes, encoding } of codeSets) {
      const payload = encodeCodes(codes);
      if (payload[0] !== encoding) throw new Error(`${label}: encodeCodes chose encoding ${payload[0]}, expected ${encoding}`);
      if (!sameArray(decodeCodes(payload, { expectedLength: N }).codes, codes)) throw new Error(`${label}: decodeCodes did not return the encoded codes`);
      const bestMs = best(await timeRuns(() => decodeCodes(payload, { expectedLength: N }), REPEAT));
      const rate = N / bestMs / 1e3;
      report.check(label, `${num(rate)} M cells/s`, `≥ ${TARGET_M_PER_S} M/s`, rate >= TARGET_M_PER_S);
      report.info(`  payload; time per decode`, `${mb(payload.length)}; ${ms(bestMs)}`);
      if (encoding <= 1) {
        // Raw codes are returned as a view where alignment allows. The Python reference is not
        // installed here; a plain copy of the codes is the yardstick it was measured against.
        const copyMs = best(await timeRuns(() => payload.slice(payload.length - N * (encoding + 1)), REPEAT));
        const copied = decodeCodes(payload, { expectedLength: N }).codes.buffer !== payload.buffer;
        if (copied) {
          // u16 codes after an odd-length header (1 + a 4-byte varint for 10M) cannot be viewed in place.
          report.info(`  a copy (odd offset); time of a plain copy`, ms(copyMs));
        } else report.check(`  decode ÷ a plain copy of the codes`, `${num(copyMs / bestMs, 0)}× (a view)`, "≥ 1×", copyMs / bestMs >= 1);
      }
    }
  },
};
