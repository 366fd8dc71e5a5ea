/**
 * anndata `categorical` 0.2.0: a group with `codes` (signed integers, −1 =
 * missing) and `categories`, and an `ordered` attribute. Codes are written in
 * the smallest signed type that fits, as pandas keeps them and anndata writes
 * them.
 */
import { AnnDataError, type CategoricalCodes, type Column, type NumericArray, codesArrayFor } from "../model.js";
import { firstRepeated } from "../element-rules.js";
import { type Encoding, encodingAttrs } from "./encoding.js";
import { type ArrayRead, join, readVector, what } from "./io.js";
import { array } from "./array.js";
import { stringArray } from "./string-array.js";

type Categorical = Extract<Column, { kind: "categorical" }>;

function isCodes(v: NumericArray): v is CategoricalCodes {
  return v instanceof Int8Array || v instanceof Int16Array || v instanceof Int32Array || v instanceof BigInt64Array;
}

/** The model's categories are strings; numeric or bool categories are shown as pandas prints them. */
function categoriesAsStrings(r: ArrayRead): string[] {
  if (r.type === "string") return r.data;
  if (r.type === "bool") return Array.from(r.data, (b) => (b ? "True" : "False"));
  return Array.from(r.data as ArrayLike<number | bigint>, String);
}

function smallestCodes(c: Categorical): CategoricalCodes {
  const out = codesArrayFor(c.categories.length, c.codes.length);
  if (out.constructor === c.codes.constructor) return c.codes;
  for (let i = 0; i < c.codes.length; i++) out[i] = Number(c.codes[i]);
  return out;
}

export const categorical: Encoding = {
  type: "categorical",
  version: "0.2.0",
  column: {
    kinds: ["categorical"],
    kindOf: (io, path) => (io.kind(path) === "group" ? "categorical" : null),
    async read(io, path, rows) {
      const codes = await readVector(io, join(path, "codes"), rows);
      if (codes.type !== "numeric" || !isCodes(codes.data)) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, join(path, "codes"))} is not an array of signed integers`);
      const categories = categoriesAsStrings(await readVector(io, join(path, "categories"), null));
      return { kind: "categorical", codes: codes.data, categories, ordered: io.attrs(path)["ordered"] === true };
    },
    /** pandas refuses repeated categories (`Categorical categories must be unique`) and codes outside −1..n−1. */
    check(column, at) {
      const c = column as Categorical;
      const repeated = firstRepeated(c.categories);
      if (repeated !== null) throw new AnnDataError("BAD_VALUE", `${at}: category ${JSON.stringify(repeated)} appears more than once (categories must be unique)`);
      const n = c.categories.length;
      for (let i = 0; i < c.codes.length; i++) {
        const code = Number(c.codes[i]);
        if (code < -1 || code >= n) throw new AnnDataError("BAD_VALUE", `${at}: code ${code} at row ${i} is outside -1..${n - 1}`);
      }
    },
    write(io, path, column) {
      const c = column as Categorical;
      return io.writeGroup(path, encodingAttrs(categorical, { ordered: c.ordered }), async () => {
        await io.writeArray(join(path, "codes"), { type: "numeric", data: smallestCodes(c) }, encodingAttrs(array));
        await io.writeArray(join(path, "categories"), { type: "string", data: c.categories }, encodingAttrs(stringArray));
      });
    },
  },
};
