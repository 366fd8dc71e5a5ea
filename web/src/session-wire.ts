/**
 * The session as the page posts it to the session worker: each cells / codes
 * array goes across once. The page numbers its arrays (they never change in
 * place: a change is a new array) and posts an array's data only when the
 * worker does not hold it yet; otherwise just its number. The worker keeps
 * the arrays of the last request, so an unchanged array is the same object
 * there from one bundle to the next, which is what its chunk cache keys on.
 * Both sides apply one rule after every request (keep exactly the arrays it
 * named), and the worker takes requests in order, so they always agree.
 */
import type { SessionData } from "./session-io.js";
import type { Group, LabelField } from "./state.js";

type Codes = Uint8Array | Uint16Array;

/** An array by its number; `data` only the first time the worker sees it. */
export interface WireArray<T> {
  ref: number;
  data?: T;
}

export interface WireSession extends Omit<SessionData, "pages" | "fields"> {
  pages: { id: string; name: string; groups: (Omit<Group, "cells"> & { cells: WireArray<Uint32Array> })[] }[];
  fields: (Omit<LabelField, "codes"> & { codes: WireArray<Codes> })[];
}

/** The page's side. */
export class WireSender {
  private readonly numbers = new WeakMap<object, number>();
  private next = 1;
  /** Numbers of the arrays the worker holds. */
  private held = new Set<number>();

  toWire(data: SessionData): WireSession {
    const named = new Set<number>();
    const wire = <T extends object>(arr: T): WireArray<T> => {
      let ref = this.numbers.get(arr);
      if (ref === undefined) this.numbers.set(arr, (ref = this.next++));
      named.add(ref);
      return this.held.has(ref) ? { ref } : { ref, data: arr };
    };
    const out: WireSession = {
      ...data,
      pages: data.pages.map((p) => ({ id: p.id, name: p.name, groups: p.groups.map((g) => ({ ...g, cells: wire(g.cells) })) })),
      fields: data.fields.map((f) => ({ ...f, codes: wire(f.codes) })),
    };
    this.held = named;
    return out;
  }

  /** After a request that failed: the worker may not hold what this side counts on, so the next one sends every array. */
  forget(): void {
    this.held = new Set();
  }
}

/** The worker's side. */
export class WireReceiver {
  private held = new Map<number, object>();

  /** Call in the message handler before anything asynchronous: requests must be taken in order. */
  fromWire(wire: WireSession): SessionData {
    const named = new Map<number, object>();
    const take = <T extends object>(w: WireArray<T>): T => {
      // A number stands for one array on the page: the one kept here stays the object the cache knows, even when sent again.
      const arr = (this.held.get(w.ref) ?? w.data) as T | undefined;
      if (!arr) throw new Error(`session worker: array ${w.ref} was neither sent nor kept`);
      named.set(w.ref, arr);
      return arr;
    };
    const data: SessionData = {
      ...wire,
      pages: wire.pages.map((p) => ({ id: p.id, name: p.name, groups: p.groups.map((g) => ({ ...g, cells: take(g.cells) })) })),
      fields: wire.fields.map((f) => ({ ...f, codes: take(f.codes) })),
    };
    this.held = named;
    return data;
  }
}
