/**
 * `apply --reference ORIGINAL`: the bundle was made on ORIGINAL, and DATA is
 * a subset, superset or reordering of it. Cells are matched by obs_names and
 * genes by var_names, so each DATA row knows its ORIGINAL row (or none).
 */
import { CellucidSessionError } from "../format/errors.js";
import type { AnnDataStore, Axis } from "../anndata/model.js";

export interface AxisMatch {
  /** For each DATA row, its ORIGINAL row, or -1 when ORIGINAL has no such name. */
  toReference: Int32Array;
  /** 1 for each ORIGINAL row that DATA has. */
  inData: Uint8Array;
  matched: number;
  onlyInData: number;
  onlyInReference: number;
}

export interface ReferenceMatch {
  source: string;
  obs: AxisMatch;
  var: AxisMatch;
}

const NAMES: Record<Axis, string> = { obs: "obs_names", var: "var_names" };

/** Matches DATA's rows to ORIGINAL's by name; duplicate names in either are an error (a name must mean one row). */
export async function matchReference(reference: AnnDataStore, data: AnnDataStore): Promise<ReferenceMatch> {
  return { source: reference.name, obs: await matchAxis("obs", reference, data), var: await matchAxis("var", reference, data) };
}

async function matchAxis(axis: Axis, reference: AnnDataStore, data: AnnDataStore): Promise<AxisMatch> {
  const refNames = await reference.readIndex(axis);
  const dataNames = await data.readIndex(axis);
  const position = new Map<string, number>();
  refNames.forEach((name, j) => {
    if (position.has(name)) throw duplicate(axis, reference.name, name, refNames);
    position.set(name, j);
  });
  const seen = new Set<string>();
  const toReference = new Int32Array(dataNames.length);
  const inData = new Uint8Array(refNames.length);
  let matched = 0;
  dataNames.forEach((name, i) => {
    if (seen.has(name)) throw duplicate(axis, data.name, name, dataNames);
    seen.add(name);
    const j = position.get(name);
    toReference[i] = j ?? -1;
    if (j !== undefined) {
      inData[j] = 1;
      matched++;
    }
  });
  return { toReference, inData, matched, onlyInData: dataNames.length - matched, onlyInReference: refNames.length - matched };
}

function duplicate(axis: Axis, file: string, name: string, names: string[]): CellucidSessionError {
  const times = names.filter((n) => n === name).length;
  return new CellucidSessionError("REFERENCE_NAMES", `${file}: ${NAMES[axis]} '${name}' appears ${times} times, so ${axis === "obs" ? "cells" : "genes"} cannot be matched by name; make the ${NAMES[axis]} unique (anndata: .${axis}_names_make_unique()) and apply again`);
}
