/** anndata `dict` 0.1.0: a group whose members are uns values (uns itself is one). */
import { type UnsValue, isUnsDict } from "../model.js";
import { checkUnsKey } from "../element-rules.js";
import { type Encoding, encodingAttrs } from "./encoding.js";
import { join } from "./io.js";

export const dict: Encoding = {
  type: "dict",
  version: "0.1.0",
  uns: {
    holds: (v) => isUnsDict(v),
    async read(io, path, readChild) {
      const out: { [key: string]: UnsValue } = {};
      for (const name of io.members(path)) out[name] = await readChild(join(path, name));
      return out;
    },
    /** Keys become HDF5 link names and Zarr folder names. */
    check(v, at, checkChild) {
      for (const [k, child] of Object.entries(v as { [key: string]: UnsValue })) {
        checkUnsKey(at, k);
        checkChild(child, `${at}/${k}`);
      }
    },
    write(io, path, v, writeChild) {
      return io.writeGroup(path, encodingAttrs(dict), async () => {
        for (const [k, child] of Object.entries(v as { [key: string]: UnsValue })) await writeChild(join(path, k), child);
      });
    },
  },
};
