/**
 * Blosc as zarrita uses it, made to fail on corrupt chunks. numcodecs' blosc
 * WASM does not report errors: garbage decodes to an empty buffer and a
 * truncated chunk to a partly wrong one, which zarrita then reads as zeros
 * (checked with numcodecs 0.3). Blosc's 16-byte header states both sizes, so
 * a chunk whose sizes do not match is refused instead. Blosc is anndata's
 * default compressor, so this covers nearly every store.
 */
import * as zarr from "zarrita";
import Blosc from "numcodecs/blosc";

type BloscConfig = Parameters<typeof Blosc.fromConfig>[0];

const HEADER = 16;

class CheckedBlosc {
  readonly kind = "bytes_to_bytes";
  private readonly inner: ReturnType<typeof Blosc.fromConfig>;

  constructor(config: BloscConfig) {
    this.inner = Blosc.fromConfig(config);
  }

  static fromConfig(config: unknown): CheckedBlosc {
    return new CheckedBlosc({ id: "blosc", ...(config as Partial<BloscConfig>) });
  }

  async encode(data: Uint8Array): Promise<Uint8Array> {
    return this.inner.encode(data);
  }

  async decode(data: Uint8Array): Promise<Uint8Array> {
    if (data.length < HEADER) throw new Error(`corrupt blosc chunk: ${data.length} bytes, shorter than its header`);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const nbytes = view.getUint32(4, true);
    const cbytes = view.getUint32(12, true);
    if (cbytes !== data.length) throw new Error(`corrupt blosc chunk: header says ${cbytes} bytes, file has ${data.length}`);
    const out = await this.inner.decode(data);
    if (out.length !== nbytes) throw new Error(`corrupt blosc chunk: decoded ${out.length} bytes, header says ${nbytes}`);
    return out;
  }
}

let installed = false;

/** Replaces zarrita's blosc entries (v2 "numcodecs.blosc" and v3 "blosc") with the checked codec, once. */
export function installCheckedBlosc(): void {
  if (installed) return;
  installed = true;
  const entry = async () => CheckedBlosc;
  zarr.registry.set("numcodecs.blosc", entry);
  zarr.registry.set("blosc", entry);
}
