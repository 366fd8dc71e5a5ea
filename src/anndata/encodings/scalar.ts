/**
 * anndata `string` and `numeric-scalar` 0.2.0: a 0-d array holding one value,
 * in uns. Python writes an int as int64 and a float as float64; a JS number
 * that is an exact integer is taken as an int, a boolean as numpy bool.
 */
import type { UnsValue } from "../model.js";
import { type Encoding, encodingAttrs } from "./encoding.js";
import { type ElementIO, readChecked } from "./io.js";

/** An uns leaf (a scalar or a 1-d array, whatever its encoding says it is): a 0-d array gives its value. */
export async function readUnsLeaf(io: ElementIO, path: string): Promise<UnsValue> {
  const r = await readChecked(io, path, 1);
  if (r.shape.length === 0) {
    if (r.type === "string") return r.data[0]!;
    if (r.type === "bool") return r.data[0] === 1;
    return Number(r.data[0]!);
  }
  // UnsValue has no bool array: numpy bool arrays come back as their 0/1 bytes.
  return r.data;
}

export const string: Encoding = {
  type: "string",
  version: "0.2.0",
  uns: {
    holds: (v) => typeof v === "string",
    read: (io, path) => readUnsLeaf(io, path),
    write: (io, path, v) => io.writeArray(path, { type: "string", data: [v as string] }, encodingAttrs(string), true),
  },
};

export const numericScalar: Encoding = {
  type: "numeric-scalar",
  version: "0.2.0",
  uns: {
    holds: (v) => typeof v === "number" || typeof v === "boolean",
    read: (io, path) => readUnsLeaf(io, path),
    write: (io, path, v) => {
      const attrs = encodingAttrs(numericScalar);
      if (typeof v === "boolean") return io.writeArray(path, { type: "bool", data: new Uint8Array([v ? 1 : 0]) }, attrs, true);
      const n = v as number;
      return io.writeArray(path, { type: "numeric", data: Number.isSafeInteger(n) ? new BigInt64Array([BigInt(n)]) : new Float64Array([n]) }, attrs, true);
    },
  },
};
