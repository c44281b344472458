/**
 * A run's identity and its directory, and the one-time move of a store in the old layout.
 *
 * A run is its config with the labels left out (`LABEL_KEYS`: the name shown in tables), so one experiment asked
 * for under two names (two grids, or a grid and the main job) is one run, trained once. Its directory is
 * `<root>/<runKey(cfg)>`, a pure function of the config: a readable `<name>-<key>` would need a scan to find a
 * run asked for under another name, and two processes asking under two names at once would each create a
 * directory (the lock lives inside it), so both would train. The names live in run.json as labels.
 *
 *   run.json   { format, names: [first asker's name, later ones...], hash: runKey, config: the config less its labels }
 *
 * The old layout (before this file) named a directory `<name>-<configHash(config with name)>` and its run.json
 * held `{ format, name, hash, config }`. `migrateRunStore` moves each such directory to the new layout: it rewrites
 * run.json first (temp + rename) and then renames the directory (one rename, atomic), so a crash between the
 * two leaves a directory the next open finishes. A directory locked by a process is left until it is free; one
 * whose config another old directory already holds (the same experiment under two names) gives its name to that
 * run and is moved whole to `<root>-stale/` (kept, never deleted), the finished one of the two staying.
 */
import fs from "fs";
import path from "path";
import { configHash } from "../config";
import { readJsonFile, writeJsonAtomic } from "../files";

/** Bump when the layout or meaning of a run directory's files changes; older files are then refused. */
export const RUN_FORMAT = 1;

/** Config keys that only label a run: left out of its identity, kept in run.json's `names`. */
export const LABEL_KEYS: readonly string[] = ["name"];

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** The config less its labels: what makes the run. */
export function runIdentity(cfg: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(cfg as Record<string, unknown>) };
  for (const k of LABEL_KEYS) delete out[k];
  // how the steps run (eager or one TF graph) is not part of what a run is: their losses agree to float
  // rounding (docs/speed.md), so a run trained either way is the same run and keeps its key
  const t = out.train;
  if (t !== null && typeof t === "object" && "compile" in t) {
    const { compile: _compile, ...rest } = t as Record<string, unknown>;
    out.train = rest;
  }
  return out;
}

/** The run's key (its directory name): the hash of its identity. */
export function runKey(cfg: object): string {
  return configHash(runIdentity(cfg));
}

/** A directory name of the current layout: a bare key. */
export function isKeyName(name: string): boolean {
  return /^[0-9a-f]{12}$/.test(name);
}

/** run.json of the current layout for a config asked for under `names`. */
export function runMeta(
  cfg: object,
  names: string[],
): { format: number; names: string[]; hash: string; config: Record<string, unknown> } {
  return { format: RUN_FORMAT, names, hash: runKey(cfg), config: runIdentity(cfg) };
}

/** Add `name` to a run's labels (run.json rewritten by rename); no-op when it is there. */
export function addRunName(dir: string, name: string): void {
  const file = path.join(dir, "run.json");
  const meta = readJsonFile(file, "run config", `delete the directory ${dir} and rerun`);
  if (!isObject(meta) || !Array.isArray(meta.names) || meta.names.includes(name)) return;
  writeJsonAtomic(file, { ...meta, names: [...meta.names, name] });
}

function stalePath(root: string, base: string): string {
  const asideRoot = path.join(path.dirname(root), `${path.basename(root)}-stale`);
  fs.mkdirSync(asideRoot, { recursive: true });
  return path.join(asideRoot, `${base}@migrated-${new Date().toISOString().replace(/[:.]/g, "-")}`);
}

const gone = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === "ENOENT";

/**
 * Move every old-layout directory under `root` to the config-keyed layout (see the header); idempotent, safe to
 * run from several processes at once (a directory another one moved first is skipped). Returns one line per
 * directory moved, merged or left; `RunStore` calls it when it is opened and logs the lines.
 */
export function migrateRunStore(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  const lines: string[] = [];
  for (const d of fs.readdirSync(root, { withFileTypes: true })) {
    if (!d.isDirectory() || isKeyName(d.name)) continue;
    try {
      const line = migrateDir(root, d.name);
      if (line) lines.push(line);
    } catch (e) {
      if (!gone(e)) throw e; // another process moved it first
    }
  }
  return lines;
}

function migrateDir(root: string, base: string): string | null {
  const dir = path.join(root, base);
  const file = path.join(dir, "run.json");
  if (!fs.existsSync(file))
    return `run store ${root}: left ${base} as it is (no run.json: nothing was run in it); delete it`;
  if (fs.existsSync(path.join(dir, "lock")))
    return `run store ${root}: left ${base} in the old layout while a process holds its lock; it moves the next time the store is opened after that (if that process is gone, delete ${path.join(dir, "lock")})`;
  const fix = `move ${dir} out of the run store (or delete it) and rerun`;
  let meta = readJsonFile(file, "run config", fix);
  if (!isObject(meta) || meta.format !== RUN_FORMAT || !isObject(meta.config))
    throw new Error(`run config ${file} is not a run config of format ${RUN_FORMAT}: ${fix}`);
  if (!Array.isArray(meta.names)) {
    // the old form: { format, name, hash, config } with the name inside the config and the hash
    if (typeof meta.name !== "string" || meta.hash !== configHash(meta.config))
      throw new Error(`run config ${file} (old layout) does not match its hash ${String(meta.hash)}: ${fix}`);
    meta = runMeta(meta.config, [meta.name]);
    writeJsonAtomic(file, meta); // first run.json, then the rename: a crash between them is finished next time
  }
  const m = meta as { names: string[]; hash: string };
  const to = path.join(root, m.hash);
  const done = (d: string) => fs.existsSync(path.join(d, "done"));
  if (!fs.existsSync(to) || fs.readdirSync(to).length === 0) {
    fs.renameSync(dir, to);
    return `run store ${root}: ${base} -> ${m.hash} (runs are keyed by their config; names ${m.names.join(", ")})`;
  }
  // the same experiment under another name is already there: one run stays, the other is kept aside
  if (fs.existsSync(path.join(to, "lock")))
    return `run store ${root}: left ${base} while ${m.hash} (the same config) is locked by a process; it moves the next time the store is opened after that`;
  if (done(dir) && !done(to)) {
    const aside = stalePath(root, m.hash);
    fs.renameSync(to, aside);
    fs.renameSync(dir, to);
    for (const n of namesOf(path.join(aside, "run.json"))) addRunName(to, n);
    return `run store ${root}: ${base} -> ${m.hash} (finished; the unfinished run of the same config moved to ${aside})`;
  }
  const aside = stalePath(root, base);
  fs.renameSync(dir, aside);
  for (const n of m.names) addRunName(to, n);
  return `run store ${root}: ${base} is the same config as ${m.hash}: its name(s) ${m.names.join(", ")} were added there, the directory moved to ${aside}`;
}

function namesOf(file: string): string[] {
  try {
    const meta = JSON.parse(fs.readFileSync(file, "utf8")) as { names?: unknown; name?: unknown };
    if (Array.isArray(meta.names)) return meta.names.filter((n): n is string => typeof n === "string");
    return typeof meta.name === "string" ? [meta.name] : [];
  } catch {
    return [];
  }
}
