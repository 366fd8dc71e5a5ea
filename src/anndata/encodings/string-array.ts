/** anndata `string-array` 0.2.0: a 1-d array of variable-length UTF-8 strings, as a column or in uns. */
import { type Encoding, encodingAttrs } from "./encoding.js";
import { readVectorColumn } from "./array.js";
import { readUnsLeaf } from "./scalar.js";

export const stringArray: Encoding = {
  type: "string-array",
  version: "0.2.0",
  column: {
    kinds: ["string"],
    kindOf: (io, path) => (io.kind(path) === "array" && io.info(path).dtype === "string" ? "string" : null),
    read: readVectorColumn,
    write: (io, path, c) => io.writeArray(path, { type: "string", data: (c as Extract<typeof c, { kind: "string" }>).values }, encodingAttrs(stringArray)),
  },
  uns: {
    holds: (v) => Array.isArray(v),
    read: (io, path) => readUnsLeaf(io, path),
    check: (v, at) => {
      if ((v as unknown[]).some((s) => typeof s !== "string")) throw new TypeError(`${at}: a list in uns must hold only strings`);
    },
    write: (io, path, v) => io.writeArray(path, { type: "string", data: v as string[] }, encodingAttrs(stringArray)),
  },
};
