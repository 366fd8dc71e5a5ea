/**
 * Encoded chunks kept between bundles, for a program that writes the same
 * session again and again with a few groups or fields changed (the viewer's
 * autosaves and captures). Entries are keyed by the array a chunk was made
 * from, by identity: a writer given the same cells or codes array again
 * reuses its payload and stored bytes instead of sorting, encoding and
 * compressing it once more. So an array given to a writer with a cache must
 * never change afterwards (change means a new array); the WeakMaps let
 * arrays nobody holds any more go, with their chunks.
 */
import type { ChunkCodec } from "../format/manifest.js";
import type { GzipCodec } from "../codecs/gzip.js";

export interface CachedPayload {
  payload: Uint8Array;
  /** What the writer records of the source besides the bytes (the cell count of a group). */
  count: number;
}

interface StoredBytes {
  stored: Uint8Array;
  codec: ChunkCodec;
}

export class EncodedChunkCache {
  private readonly payloads = new WeakMap<object, Map<string, CachedPayload>>();
  private readonly stored = new WeakMap<GzipCodec, WeakMap<Uint8Array, Map<string, StoredBytes>>>();
  /** Chunks made from a source array since the cache was made: built anew, or taken from here. */
  readonly counts = { encoded: 0, reused: 0 };

  /** The payload made from `source` by the transform named `how` (e.g. "cells"); `make` runs only the first time. */
  payload(source: object, how: string, make: () => CachedPayload): CachedPayload {
    let bySource = this.payloads.get(source);
    if (!bySource) this.payloads.set(source, (bySource = new Map()));
    const hit = bySource.get(how);
    if (hit) {
      this.counts.reused++;
      return hit;
    }
    this.counts.encoded++;
    const made = make();
    bySource.set(how, made);
    return made;
  }

  /** Whether `payload` came from this cache (only those have stored bytes kept). */
  storedBytes(gzip: GzipCodec, payload: Uint8Array, policy: string): StoredBytes | undefined {
    return this.stored.get(gzip)?.get(payload)?.get(policy);
  }

  keepStored(gzip: GzipCodec, payload: Uint8Array, policy: string, value: StoredBytes): void {
    let byCodec = this.stored.get(gzip);
    if (!byCodec) this.stored.set(gzip, (byCodec = new WeakMap()));
    let byPayload = byCodec.get(payload);
    if (!byPayload) byCodec.set(payload, (byPayload = new Map()));
    byPayload.set(policy, value);
  }
}
