/**
 * anndata `nullable-integer` and `nullable-boolean` 0.1.0: a group with
 * `values` and a bool `mask` (1 = missing), pandas' Int* and boolean arrays.
 */
import { AnnDataError, type Column } from "../model.js";
import { type Encoding, encodingAttrs } from "./encoding.js";
import { type ArrayData, join, readVector, what } from "./io.js";
import { array } from "./array.js";

type Nullable = Extract<Column, { kind: "nullable-integer" | "nullable-boolean" }>;

function nullable(type: Nullable["kind"]): Encoding {
  const self: Encoding = {
    type,
    version: "0.1.0",
    column: {
      kinds: [type],
      kindOf: (io, path) => (io.kind(path) === "group" ? type : null),
      async read(io, path, rows) {
        const values = await readVector(io, join(path, "values"), rows);
        const maskRead = await readVector(io, join(path, "mask"), rows);
        if (maskRead.type === "string") throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, join(path, "mask"))} holds strings`);
        const mask = maskRead.type === "bool" ? maskRead.data : Uint8Array.from(maskRead.data as ArrayLike<number | bigint>, (m) => (m ? 1 : 0));
        if (type === "nullable-boolean") {
          if (values.type !== "bool") throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, join(path, "values"))} is not a bool array`);
          return { kind: type, values: values.data, mask };
        }
        if (values.type !== "numeric") throw new AnnDataError("UNSUPPORTED_ENCODING", `${what(io, join(path, "values"))} is not an integer array`);
        return { kind: type, values: values.data, mask };
      },
      check(column, at) {
        const c = column as Nullable;
        if (c.mask.length !== c.values.length) throw new AnnDataError("BAD_LENGTH", `${at}: mask has ${c.mask.length} entries for ${c.values.length} values`);
      },
      write(io, path, column) {
        const c = column as Nullable;
        const values: ArrayData = c.kind === "nullable-boolean" ? { type: "bool", data: c.values } : { type: "numeric", data: c.values };
        return io.writeGroup(path, encodingAttrs(self), async () => {
          await io.writeArray(join(path, "values"), values, encodingAttrs(array));
          await io.writeArray(join(path, "mask"), { type: "bool", data: c.mask }, encodingAttrs(array));
        });
      },
    },
  };
  return self;
}

export const nullableInteger = nullable("nullable-integer");
export const nullableBoolean = nullable("nullable-boolean");
