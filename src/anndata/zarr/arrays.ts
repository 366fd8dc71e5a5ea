/**
 * One Zarr v2 array, read through zarrita (which decodes every dtype and
 * compressor anndata writes: blosc/lz4/zstd, zstd, zlib, gzip, vlen-utf8,
 * numpy `<U`, `|b1`, big-endian) and written here with exactly the metadata
 * Python zarr 2 + anndata produce.
 */
import { endianness } from "node:os";
import * as zarr from "zarrita";
import Blosc from "numcodecs/blosc";
import { zlibRuns, zlibRunsOfRows } from "../../codecs/zlib-runs.js";
import { AnnDataError, type NumericArray } from "../model.js";
import { type Json, type JsonObject, NodeReader, PyFloat, type ZarrFiles, keyJoin } from "./files.js";
import { installCheckedBlosc } from "./codecs.js";
import { type ArrayData, type ArrayRead, type ArrayWrite, type DType, type RowRange, dtypeOf, isNumericArray } from "../encodings/io.js";

installCheckedBlosc();

/**
 * Reads a whole array, or rows [start, end) of it, row-major whatever its
 * storage order. The caller (encodings/io.ts) checked its claimed shape.
 * `what` names the element in messages, e.g. "/path/to/store.zarr: obs/leiden/codes".
 */
export async function readArray(files: ZarrFiles, key: string, what: string, range?: RowRange): Promise<ArrayRead> {
  try {
    const meta = await files.readJsonObject(keyJoin(key, ".zarray"));
    const loc = new zarr.Location(new NodeReader(files.reader, key, rawChunkBytes(meta)), "/");
    const arr = await zarr.open.v2(loc, { kind: "array" });
    let shape = [...arr.shape];
    const dtype: string = arr.dtype;
    let items: unknown;
    if (range && shape.length >= 1) {
      // Only the chunks overlapping rows [start, end) are read and decoded.
      shape = [range.end - range.start, ...shape.slice(1)];
      if (shape.includes(0)) items = [];
      else {
        const got = (await zarr.get(arr, [zarr.slice(range.start, range.end), ...shape.slice(1).map(() => null)])) as { data: unknown; stride: number[] };
        items = shape.length === 2 ? rowMajor(got.data, shape, got.stride) : got.data;
      }
    } else if (shape.includes(0)) {
      // zarrita 0.7 fails on empty arrays ("Input contains an empty iterator"); there is nothing to read anyway.
      items = [];
    } else if (shape.length === 0) {
      // get() returns a scalar for 0-d arrays.
      items = [await zarr.get(arr)];
    } else {
      const got = (await zarr.get(arr)) as { data: unknown; stride: number[] };
      items = shape.length === 2 ? rowMajor(got.data, shape, got.stride) : got.data;
    }
    return { ...toArrayData(items, dtype, what), shape };
  } catch (err) {
    throw asAnnDataError(err, what);
  }
}

/** zarrita returns an F-order array in its native order (strides say so); callers get row-major data. */
function rowMajor(data: unknown, shape: number[], stride: number[]): unknown {
  const [rows, cols] = shape as [number, number];
  if (stride[0] === cols && stride[1] === 1) return data;
  if (!isNumericArray(data)) throw new AnnDataError("UNSUPPORTED_ENCODING", "only numeric 2-d arrays are read");
  const out = new (data.constructor as new (n: number) => NumericArray)(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = data[i * stride[0]! + j * stride[1]!]!;
  return out;
}

/** The exact size of every chunk file of an uncompressed, unfiltered fixed-size array; undefined otherwise. */
function rawChunkBytes(meta: JsonObject | undefined): number | undefined {
  if (!meta || meta["compressor"] !== null) return undefined;
  const filters = meta["filters"];
  if (filters !== null && filters !== undefined && !(Array.isArray(filters) && filters.length === 0)) return undefined;
  const m = typeof meta["dtype"] === "string" ? /^[<>|]([biufc])(\d+)$|^[<>|]([US])(\d+)$/.exec(meta["dtype"]) : null;
  const chunks = meta["chunks"];
  if (!m || !Array.isArray(chunks) || !chunks.every((c) => typeof c === "number")) return undefined;
  const itemsize = m[1] ? Number(m[2]) : Number(m[4]) * (m[3] === "U" ? 4 : 1);
  return (chunks as number[]).reduce((a, b) => a * b, itemsize);
}

function toArrayData(items: unknown, dtype: string, what: string): ArrayData {
  if (dtype === "bool") {
    if (items instanceof zarr.BoolArray) return { type: "bool", data: new Uint8Array(items.buffer, items.byteOffset, items.length).slice() };
    return { type: "bool", data: Uint8Array.from(items as boolean[], (b) => (b ? 1 : 0)) };
  }
  if (dtype === "v2:object" || dtype.startsWith("v2:U") || dtype.startsWith("v2:S")) {
    const list = items instanceof zarr.UnicodeStringArray || items instanceof zarr.ByteStringArray ? Array.from({ length: items.length }, (_, i) => items.get(i)) : (items as unknown[]);
    const bad = list.findIndex((s) => typeof s !== "string");
    if (bad >= 0) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} holds non-string objects (element ${bad})`);
    return { type: "string", data: list as string[] };
  }
  if (Array.isArray(items)) {
    // Scalars come back as plain JS values; rebuild a typed array of the same dtype.
    const Ctr = TYPED_FOR_DTYPE[dtype];
    if (!Ctr) throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} has dtype ${dtype}`);
    return { type: "numeric", data: Ctr.from(items as never[]) };
  }
  if (isNumericArray(items)) return { type: "numeric", data: items };
  throw new AnnDataError("UNSUPPORTED_ENCODING", `${what} has dtype ${dtype}`);
}

interface TypedCtor {
  from(items: ArrayLike<never>): NumericArray;
}

const TYPED_FOR_DTYPE: Record<string, TypedCtor | undefined> = {
  int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array,
  float32: Float32Array, float64: Float64Array,
};

function asAnnDataError(err: unknown, what: string): AnnDataError {
  if (err instanceof AnnDataError) return err;
  let message = err instanceof Error ? err.message : String(err);
  // zarrita wraps codec failures; the cause says what was wrong with the chunk.
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) message += `: ${cause.message}`;
  // Unknown codecs and dtypes are format features we do not read; anything else is I/O or corruption.
  if (zarr.isZarritaError(err, "UnknownCodecError", "InvalidMetadataError", "UnsupportedError")) {
    return new AnnDataError("UNSUPPORTED_ENCODING", `${what}: ${message}`);
  }
  return new AnnDataError("IO", `${what}: cannot read array (${message})`);
}

/** numpy's type code of each dtype: the zarr v2 `dtype` without its byte order ("<i4" is int32). */
export const NUMPY_CODES: Readonly<Record<Exclude<DType, "string">, string>> = {
  bool: "b1", int8: "i1", int16: "i2", int32: "i4", int64: "i8", uint8: "u1", uint16: "u2", uint32: "u4", uint64: "u8", float32: "f4", float64: "f8",
};

/** The numpy dtype string (zarr v2 `dtype`) of a typed array, as numpy spells it on a little-endian machine. */
export function numpyDtype(values: NumericArray): string {
  const code = NUMPY_CODES[dtypeOf(values) as Exclude<DType, "string">];
  return `${code.endsWith("1") ? "|" : "<"}${code}`;
}

/** anndata's default compressor with zarr 2 (numcodecs Blosc()). */
const BLOSC_CONFIG = { blocksize: 0, clevel: 5, cname: "lz4", id: "blosc", shuffle: 1 } as const;
const blosc = Blosc.fromConfig(BLOSC_CONFIG);
/** numcodecs Zlib: what boolean arrays are written with. */
const ZLIB_CONFIG = { id: "zlib", level: 1 } as const;

// zarr.util.guess_chunks constants: Python picks chunk shapes this way when anndata gives none.
const CHUNK_BASE = 256 * 1024;
const CHUNK_MIN = 128 * 1024;
const CHUNK_MAX = 64 * 1024 * 1024;

/** zarr.util.guess_chunks for one dimension, so written arrays are chunked as Python would chunk them. */
export function guessChunkLength(length: number, typesize: number): number {
  let chunk = Math.max(length, 1);
  const dsetSize = chunk * typesize;
  const target = Math.min(CHUNK_MAX, Math.max(CHUNK_MIN, CHUNK_BASE * 2 ** Math.log10(dsetSize / (1024 * 1024))));
  for (;;) {
    const bytes = chunk * typesize;
    if ((bytes < target || Math.abs(bytes - target) / target < 0.5) && bytes < CHUNK_MAX) break;
    if (chunk === 1) break;
    chunk = Math.ceil(chunk / 2);
  }
  return chunk;
}

/**
 * Writes a new array at `key` (a folder that must not exist yet): every
 * chunk, `.zattrs`, and `.zarray` last. `scalar` writes a 0-d array of the single value,
 * uncompressed, as zarr does for numpy scalars.
 */
export async function writeArray(files: ZarrFiles, key: string, value: ArrayWrite, attrs: JsonObject, scalar = false): Promise<void> {
  // Typed arrays are in host byte order and the dtypes written say "<".
  if (endianness() !== "LE") throw new AnnDataError("IO", "writing Zarr arrays needs a little-endian machine");
  const n = "trueRows" in value ? value.length : value.data.length;
  if (scalar && ("trueRows" in value || n !== 1)) throw new RangeError(`a scalar needs exactly one value, got ${n}`);
  let dtype: string;
  let fill: Json;
  let typesize: number;
  let filters: Json = null;
  if (value.type === "string") {
    if (scalar) {
      // numpy str scalar: fixed-width UTF-32 ("<U5"), as np.array("hello") is.
      const chars = Math.max(1, Array.from(value.data[0]!).length);
      dtype = `<U${chars}`;
      fill = "";
      typesize = 4 * chars;
    } else {
      dtype = "|O";
      fill = 0;
      typesize = 8; // numpy object itemsize, which guess_chunks uses
      filters = [{ id: "vlen-utf8" }];
    }
  } else if (value.type === "bool") {
    dtype = "|b1";
    fill = false;
    typesize = 1;
  } else {
    dtype = numpyDtype(value.data);
    // numpy's zero of the dtype, as zarr writes it: 0.0 for floats, 0 for ints.
    fill = dtype[1] === "f" ? new PyFloat(0) : 0;
    typesize = value.data.BYTES_PER_ELEMENT;
  }
  const chunkLength = scalar ? 1 : guessChunkLength(n, typesize);
  // Booleans (a group's column, masks) are long runs: zlib streams of runs (zlibRuns, as the .h5ad
  // store writes them) are ~1% of the bytes and far cheaper to make than Blosc's.
  const runs = !scalar && value.type === "bool";
  const meta: JsonObject = {
    chunks: scalar ? [] : [chunkLength],
    compressor: scalar ? null : runs ? { ...ZLIB_CONFIG } : { ...BLOSC_CONFIG },
    dtype,
    fill_value: fill,
    filters,
    order: "C",
    shape: scalar ? [] : [n],
    zarr_format: 2,
  };
  await files.mkdir(key);
  await files.writeNewJson(keyJoin(key, ".zattrs"), attrs);
  const chunkCount = scalar ? 1 : Math.ceil(n / chunkLength);
  for (let c = 0; c < chunkCount; c++) {
    const start = c * chunkLength;
    const end = Math.min(n, start + chunkLength);
    let stored: Uint8Array;
    if ("trueRows" in value) stored = zlibRunsOfRows(value.trueRows, start, chunkLength);
    else {
      const raw = scalar && value.type === "string" ? utf32(value.data[0]!, typesize / 4) : chunkBytes(value, start, end, chunkLength);
      stored = scalar ? raw : runs ? zlibRuns(raw, { booleans: true }) : await blosc.encode(raw);
    }
    // Zarr v2 names chunks by grid index; a 0-d array's only chunk is "0".
    await files.writeNewBytes(keyJoin(key, String(c)), stored);
  }
  // .zarray last: until it exists the folder is no Zarr node (for Python zarr
  // and for us), so an interrupted write leaves nothing that reads as an array.
  await files.writeNewJson(keyJoin(key, ".zarray"), meta);
}

/**
 * The bytes of one chunk. Zarr v2 chunks are always full size: the last one
 * is padded (zeros, or empty strings for vlen-utf8), as Python zarr pads it.
 */
function chunkBytes(value: ArrayData, start: number, end: number, chunkLength: number): Uint8Array {
  if (value.type === "string") return vlenUtf8(value.data.slice(start, end), chunkLength);
  if (value.type === "bool") {
    const out = new Uint8Array(chunkLength);
    out.set(value.data.subarray(start, end));
    if (!isZeroOne(out)) for (let i = 0; i < end - start; i++) out[i] = out[i] ? 1 : 0;
    return out;
  }
  const size = value.data.BYTES_PER_ELEMENT;
  const out = new Uint8Array(chunkLength * size);
  out.set(new Uint8Array(value.data.buffer, value.data.byteOffset + start * size, (end - start) * size));
  return out;
}

/** Whether every byte is 0 or 1 (numpy's bools), checked four bytes at a time: columns of a million cells are common. */
function isZeroOne(bytes: Uint8Array): boolean {
  const words = Math.floor(bytes.length / 4);
  const view = new Uint32Array(bytes.buffer, bytes.byteOffset, words);
  for (let i = 0; i < words; i++) if (view[i]! & 0xfefefefe) return false;
  for (let i = words * 4; i < bytes.length; i++) if (bytes[i]! > 1) return false;
  return true;
}

/** numcodecs VLenUTF8: item count, then per item a byte length and its UTF-8 (all uint32 little-endian). */
function vlenUtf8(items: string[], count: number): Uint8Array {
  const enc = new TextEncoder();
  const encoded = items.map((s) => enc.encode(s));
  const total = 4 + 4 * count + encoded.reduce((a, b) => a + b.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, count, true);
  let at = 4;
  for (let i = 0; i < count; i++) {
    const b = encoded[i] ?? new Uint8Array(0);
    view.setUint32(at, b.length, true);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/** numpy `<U` storage: one little-endian uint32 code point per character, zero-padded. */
function utf32(s: string, chars: number): Uint8Array {
  const out = new Uint8Array(chars * 4);
  const view = new DataView(out.buffer);
  let i = 0;
  for (const ch of s) view.setUint32(4 * i++, ch.codePointAt(0)!, true);
  return out;
}
