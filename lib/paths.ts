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
import { createHash } from "crypto";
import fs from "fs";
import path from "path";
import { CliError } from "./config";

/** The data root: $LST_DATA_DIR, else `data`. An empty value is a usage error (a script exits 2, no stack). */
export function dataDir(): string {
  const v = process.env.LST_DATA_DIR;
  if (v === undefined) return "data";
  if (v.trim() === "")
    throw new CliError("LST_DATA_DIR is set but empty: unset it (the default is data/) or set it to a directory");
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

/**
 * Refuse a directory path that is a file, or lies under one, before anything is made there: `what` names it
 * ("run directory (--runDir)"). Without this, mkdir says EEXIST or ENOTDIR and no path.
 */
export function checkDirPath(dir: string, what: string): void {
  let at = path.resolve(dir);
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  if (!fs.existsSync(at) || fs.statSync(at).isDirectory()) return;
  throw new Error(
    at === path.resolve(dir)
      ? `the ${what} ${dir} is a file, not a directory: give a directory's path, or move the file away`
      : `the ${what} ${dir} lies under ${at}, which is a file, not a directory: give another path, or move that file away`,
  );
}

/** Refuse a file path that is a directory (EISDIR says no path): `what` names it ("benchmark file (--file)"). */
export function checkFilePath(file: string, what: string): void {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory())
    throw new Error(`the ${what} ${file} is a directory, not a file: give the path of the file itself`);
}

/** The longest stem `outputStem` makes: the figure suffixes (`-accuracy.png`, ...) keep names under 255 bytes. */
export const MAX_STEM = 120;

/**
 * The file stem of a grid's figures and CSV: `<prefix->grid[-where]-scale[-s<seeds>]`, safe as a file name in any
 * output folder.
 *   outputStem({ grid: "phoneticPatching", where: { budget: "4x", model: "baseline|lst-aligned" }, scale: "small" })
 *     -> "phoneticPatching-budget-4x-model-baseline_lst-aligned-small"
 *   outputStem({ grid: "default", scale: "small", seeds: [4, 5], defaultSeeds: [1, 2, 3] }) -> "default-small-s4-5"
 * - where: `key:value` pairs joined by `-`, a value's alternatives `a|b` by `_`.
 * - seeds: named only when they differ from the scale's (`defaultSeeds`), so the main job's files keep their
 *   names (`default-small.csv`) and a `--seeds` run never overwrites them (nor one with other seeds).
 * - safety: only [A-Za-z0-9._-]; any other character becomes `-`, a leading `.` or `-` becomes `_`. A stem that
 *   had to be changed that way, or cut to MAX_STEM characters, ends in `-<8 hex of sha256 of its input>`, so two
 *   distinct inputs never share a stem.
 */
export function outputStem(o: {
  grid: string;
  scale: string;
  where?: Readonly<Record<string, string | number>>;
  seeds?: readonly number[];
  defaultSeeds?: readonly number[];
  prefix?: string;
}): string {
  const pairs = Object.entries(o.where ?? {}).map(([k, v]) => [k, String(v)] as const);
  const where = pairs.map(([k, v]) => `${k}-${v.split("|").join("_")}`);
  const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
  const seeds =
    o.seeds !== undefined && (o.defaultSeeds === undefined || `${sorted(o.seeds)}` !== `${sorted(o.defaultSeeds)}`)
      ? [`s${sorted(o.seeds).join("-")}`]
      : [];
  const raw = [...(o.prefix ? [o.prefix] : []), o.grid, ...where, o.scale, ...seeds].join("-");
  let stem = raw.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[.-]/, "_");
  // sanitised, or a `_` of the input that would read as `|`: the readable part no longer names one input
  const sanitised = stem !== raw || pairs.some(([k, v]) => `${k}${v}`.includes("_"));
  if (sanitised || stem.length > MAX_STEM) {
    const input = JSON.stringify([o.prefix ?? "", o.grid, pairs, o.scale, seeds]);
    stem = `${stem.slice(0, MAX_STEM - 9)}-${createHash("sha256").update(input).digest("hex").slice(0, 8)}`;
  }
  return stem;
}
