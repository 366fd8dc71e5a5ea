/** anndata `dict` 0.1.0: a group whose members are uns values (uns itself is one). */
import { type UnsValue, isUnsDict } from "../model.js";
import { checkUnsKey } from "../element-rules.js";
import { type Encoding, encodingAttrs } from "./encoding.js";
import { join, what } from "./io.js";

export const dict: Encoding = {
  type: "dict",
  version: "0.1.0",
  uns: {
    holds: (v) => isUnsDict(v),
    async read(io, path, children) {
      const out: { [key: string]: UnsValue } = {};
      for (const name of io.members(path)) out[name] = await children.read(join(path, name));
      return out;
    },
    write(io, path, v, children) {
      const entries = Object.entries(v as { [key: string]: UnsValue });
      // Keys become HDF5 link names and Zarr folder names: checked before anything is written.
      for (const [k] of entries) checkUnsKey(what(io, path), k);
      return io.writeGroup(path, encodingAttrs(dict), async () => {
        for (const [k, child] of entries) await children.write(join(path, k), child);
      });
    },
  },
};
