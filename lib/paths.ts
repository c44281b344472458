/**
 * Where the lab keeps what it generates: one data root, `LST_DATA_DIR` (default `data`, relative to the
 * working directory), holding
 *   runs/      the run store (lib/experiment/runs.ts)
 *   cache/     dataset builds (lib/data/build.ts)
 *   figures/   exported figures and CSVs of the main job
 * Every default path of the library and the scripts goes through these functions, so one variable moves all
 * of it (a cluster job on a shared disk, a larger disk, a read-only checkout). Library options (`runsRoot`,
 * `dataRoot`) still override it per call.
 */
import path from "path";

/** The data root: $LST_DATA_DIR, else `data`. */
export function dataDir(): string {
  const v = process.env.LST_DATA_DIR;
  if (v === undefined) return "data";
  if (v.trim() === "")
    throw new Error("LST_DATA_DIR is set but empty: unset it (the default is data/) or set it to a directory");
  return v;
}

/** The run store root: <data root>/runs. */
export function runsDir(): string {
  return path.join(dataDir(), "runs");
}

/** The dataset cache root: <data root>/cache. */
export function cacheDir(): string {
  return path.join(dataDir(), "cache");
}

/** Where the main job writes figures and CSVs: <data root>/figures. */
export function figuresDir(): string {
  return path.join(dataDir(), "figures");
}
