/**
 * The run store: one directory per run, keyed by the hash of its resolved config with the name left out
 * (run-layout.ts), so asking for a finished configuration again, under any name, costs nothing and a changed knob
 * is a new run. The names a run was asked for under are labels in run.json; a record carries the one asked for.
 *
 *   data/runs/<runKey>/
 *     run.json        { format, names, hash, config }    written first (not config.json: train writes its own)
 *     provenance.json { format, segments }               code, git, packages, machine: a segment per start (provenance.ts)
 *     metrics.jsonl   one StepMetrics per line, appended by train (a resumed run may log a step twice)
 *     checkpoint*     whatever `execute` keeps to resume (train's checkpoints)
 *     train/          the trainer's own run dir, where study.ts trains (checkpoint*, model.safetensors, ...)
 *     eval.json       { format, result }                 execute's return value
 *     done            { format, finishedAt }             written last: the run is complete
 *     lock            { host, pid, token, heartbeatAt, … }  only while a process works on the run (lock.ts)
 *
 * `ensure(cfg, name, execute)` returns a finished run at once. Otherwise it takes the run's lock (lock.ts: an
 * exclusive create, a heartbeat from a worker thread, stale locks taken over), calls `execute(dir, lock)`,
 * writes eval.json and `done`, and lets go of the lock. If `execute` throws (or the process dies) the directory
 * stays as it is and the next `ensure` calls `execute` again, which resumes from its own checkpoint in `dir`.
 * A second process asking for the same run while the lock is held waits (saying for whom) until `done`
 * appears or the lock goes stale. Every file is written by rename (temp + rename), except metrics.jsonl, which
 * train appends to (a torn last line is skipped), and the lock itself. A directory of another format version
 * or with a corrupt file is an Error naming the path and the fix, never silently reused. Opening a store moves
 * directories of the old `<name>-<hash>` layout to this one (`migrateRunStore`, run-layout.ts).
 *
 * What "finished" means. `done` marks a run finished, and reading it (`load`: ensure, list, the grids) checks
 * that it holds everything the tables and curves read, else it is an Error naming the run's path and the fix:
 *   - a run that trained (a checkpoint.json in the run dir or in train/) has a metric line for every step
 *     0..step-1 of its checkpoint: a missing, empty or short metrics.jsonl would drop it from the curves
 *     (fix: delete `done` and rerun when train/metrics.jsonl still holds every line, else delete the run dir
 *     and rerun: lost lines cannot be recomputed from the final checkpoint);
 *   - its model.safetensors holds the checkpoint's step (fix: delete `done` and rerun: the run resumes from the
 *     checkpoint, which rewrites the file, and evaluates again; or export it with scripts/export.ts);
 *   - an execute result with an `eval` has its accuracy `cells`, one for every benchmark and direction of its
 *     scored `items` (fix: delete eval.json and `done` and rerun: it evaluates again from the checkpoint).
 * metrics.jsonl stores NaN (a step with no speech target has lossSpeech NaN) as null: `readMetrics` gives it
 * back as NaN, so a metric read from the store is always a number.
 */
import fs from "fs";
import path from "path";
import { canonicalJson, configHash } from "../config";
import { writeFileAtomic, writeJsonAtomic } from "../files";
import { rowsFromEval, type ResultRow } from "../eval/metrics";
import type { StepMetrics } from "../train/train";
import { appendProvenance, readProvenance, runCode, type RunProvenance } from "./provenance";
import { acquireLock, type HeldLock, type LockOptions } from "./lock";
import { RUN_FORMAT, addRunName, migrateRunStore, runIdentity, runKey, runMeta } from "./run-layout";
import {
  checkFormat,
  checkTrainedRun,
  findCells,
  isObject,
  readJsonStrict,
  readMetrics,
  type MetricsRow,
} from "./run-checks";

export { RUN_FORMAT, runKey } from "./run-layout";

export { readMetrics, type MetricsRow } from "./run-checks";

export interface RunRecord<M extends MetricsRow = StepMetrics> {
  /** the directory name: the run's key (`runKey`) */
  id: string;
  /** the name it was asked for under (the first of `names` when listed) */
  name: string;
  /** every name it was asked for under, first one first */
  names: string[];
  hash: string;
  dir: string;
  /** the config less its labels (run-layout.ts `runIdentity`) */
  config: unknown;
  /** what execute returned (eval.json's `result`) */
  result: unknown;
  /** logged steps, one per step (the last one logged wins), sorted by step */
  metrics: M[];
  /** long-format accuracy rows, if the result holds an EvalResult (at `result.eval` or `result` itself) */
  rows: ResultRow[];
  finishedAt: string;
  /** the code, packages and machine that made it (null: written before provenance was recorded) */
  provenance: RunProvenance | null;
  /** its code key ('unknown' without provenance; see provenance.ts) */
  code: string;
}

/** The run locks' timing (lock.ts): pollMs, staleMs (default 2 min), heartbeatMs, noticeMs, log. */
export type RunStoreOptions = LockOptions;

/** Run names as file-name parts (the old layout's directory names, notebooks' export files): keep letters, digits, '.', '_' and '-'. */
export function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "");
  if (s === "") throw new Error(`run name '${name}' has no usable characters; use letters, digits, '.', '_' or '-'`);
  return s;
}

/** Write a run's eval.json (ensure does this with execute's return value). */
export function writeEval(dir: string, result: unknown): void {
  writeJsonAtomic(path.join(dir, "eval.json"), { format: RUN_FORMAT, result });
}

export class RunStore<M extends MetricsRow = StepMetrics> {
  readonly root: string;
  private readonly lockOpts: LockOptions;

  /** Opening a store moves any directory of the old `<name>-<hash>` layout to the config-keyed one (logged). */
  constructor(root: string, opts: RunStoreOptions = {}) {
    this.root = root;
    this.lockOpts = opts;
    for (const line of migrateRunStore(root)) (opts.log ?? console.error)(line);
  }

  /** The directory of a config: `<root>/<runKey(cfg)>`, the same under every name. */
  runDir(cfg: object): string {
    return path.join(this.root, runKey(cfg));
  }

  /**
   * Return the finished run of `cfg`, running `execute(dir, lock)` first unless some process already finished
   * it. `execute` should call `lock.check()` now and then (every training step): it throws once another process
   * took the lock over, so a holder that was frozen past the stale limit stops instead of writing on.
   */
  async ensure(
    cfg: object,
    name: string,
    execute: (dir: string, lock: HeldLock) => Promise<unknown>,
  ): Promise<RunRecord<M>> {
    safeName(name); // a name with no usable characters is refused, as before
    const dir = this.runDir(cfg);
    const doneFile = path.join(dir, "done");
    let lock: HeldLock | null = null;
    while (!lock) {
      if (fs.existsSync(doneFile)) return this.finished(dir, name);
      try {
        fs.mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw new Error(
          `cannot create the run directory ${dir} (${(e as Error).message}): the run store ${this.root} must be writable (set LST_DATA_DIR or runsRoot to a writable place)`,
        );
      }
      lock = await acquireLock(path.join(dir, "lock"), { ...this.lockOpts, until: () => fs.existsSync(doneFile) });
    }
    try {
      // subtle: another process may have finished between our `done` check and taking the lock
      if (fs.existsSync(doneFile)) return this.finished(dir, name);
      this.writeOrCheckConfig(dir, cfg, name);
      appendProvenance(dir);
      const result = await execute(dir, lock);
      lock.check(); // never write results into a run another process has taken over
      if (result !== undefined) writeEval(dir, result);
      else if (!fs.existsSync(path.join(dir, "eval.json"))) {
        throw new Error(
          `run ${dir}: execute returned nothing and wrote no eval.json; return the run's results (or call writeEval(dir, result))`,
        );
      }
      writeJsonAtomic(doneFile, { format: RUN_FORMAT, finishedAt: new Date().toISOString() });
    } finally {
      lock.release();
    }
    return this.load(dir, name);
  }

  /** A finished run asked for under `name`: the name is recorded as one of its labels, the record carries it. */
  private finished(dir: string, name: string): RunRecord<M> {
    addRunName(dir, name);
    return this.load(dir, name);
  }

  /** Read and validate a finished run directory; its rows are labelled `name` (default: its first name). */
  load(dir: string, name?: string): RunRecord<M> {
    const fix = `delete the directory ${dir} and rerun`;
    const cfgFile = path.join(dir, "run.json");
    const meta = checkFormat(readJsonStrict(cfgFile, "run config", fix), cfgFile, "run config", fix);
    if (!Array.isArray(meta.names) && typeof meta.name === "string") {
      throw new Error(
        `run config ${cfgFile} is in the old <name>-<hash> layout: open its store with new RunStore('${path.dirname(dir)}') (any lab command does) to move it to the config-keyed layout`,
      );
    }
    const names = Array.isArray(meta.names) ? meta.names.filter((n): n is string => typeof n === "string") : [];
    if (names.length === 0 || typeof meta.hash !== "string" || !("config" in meta)) {
      throw new Error(`run config ${cfgFile} is corrupt (needs names, hash, config): ${fix}`);
    }
    if (configHash(meta.config) !== meta.hash) {
      throw new Error(`run config ${cfgFile} does not match its hash ${meta.hash} (edited by hand?): ${fix}`);
    }
    const doneFile = path.join(dir, "done");
    if (!fs.existsSync(doneFile))
      throw new Error(`run ${dir} is not finished (no 'done' marker): run it with ensure() to resume it`);
    const done = checkFormat(readJsonStrict(doneFile, "run marker", fix), doneFile, "run marker", fix);
    const evalFile = path.join(dir, "eval.json");
    const ev = checkFormat(readJsonStrict(evalFile, "run results", fix), evalFile, "run results", fix);
    const redo = `delete ${evalFile} and ${doneFile} and run the same command again (the run resumes from its last checkpoint and evaluates again)`;
    const cells = findCells(ev.result, evalFile, fix, redo);
    const metrics = readMetrics<M>(path.join(dir, "metrics.jsonl"));
    checkTrainedRun(dir, metrics);
    const cfg = meta.config;
    const seed = isObject(cfg) && typeof cfg.seed === "number" ? cfg.seed : 0;
    const id = path.basename(dir);
    const provenance = readProvenance(dir);
    const code = runCode(provenance);
    const label = name ?? names[0];
    return {
      id,
      name: label,
      names,
      hash: meta.hash,
      dir,
      config: cfg,
      result: ev.result,
      metrics,
      rows: cells ? rowsFromEval({ cells }, { run: id, model: label, seed }).map((r) => ({ ...r, code })) : [],
      finishedAt: String(done.finishedAt),
      provenance,
      code,
    };
  }

  /** Every finished run under the root (unfinished directories are skipped; broken ones throw). */
  list(): RunRecord<M>[] {
    if (!fs.existsSync(this.root)) return [];
    return fs
      .readdirSync(this.root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(this.root, d.name, "done")))
      .map((d) => d.name)
      .sort()
      .map((n) => this.load(path.join(this.root, n)));
  }

  /** Directories under the root that were started but are not finished (interrupted or in progress). */
  unfinished(): string[] {
    if (!fs.existsSync(this.root)) return [];
    return fs
      .readdirSync(this.root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !fs.existsSync(path.join(this.root, d.name, "done")))
      .map((d) => path.join(this.root, d.name))
      .sort();
  }

  /** Long-format accuracy rows of every finished run. */
  toRows(): ResultRow[] {
    return this.list().flatMap((r) => r.rows);
  }

  /** The rows as a danfo DataFrame (danfojs-node is loaded on first use; it is slow to import). */
  async toDataFrame(rows: readonly ResultRow[] = this.toRows()): Promise<import("danfojs-node").DataFrame> {
    const dfd = await import("danfojs-node");
    if (rows.length === 0) throw new Error(`no finished runs with results under ${this.root}: run an experiment first`);
    return new dfd.DataFrame(flattenRows(rows));
  }

  /** Write the rows as CSV (atomically) and return the text. */
  exportCsv(file: string, rows: readonly ResultRow[] = this.toRows()): string {
    const text = toCsv(rows);
    writeFileAtomic(file, text);
    return text;
  }

  private writeOrCheckConfig(dir: string, cfg: object, name: string): void {
    const file = path.join(dir, "run.json");
    const hash = runKey(cfg);
    if (fs.existsSync(file)) {
      const fix = `delete the directory ${dir} and rerun`;
      const meta = checkFormat(readJsonStrict(file, "run config", fix), file, "run config", fix);
      if (meta.hash !== hash || canonicalJson(meta.config) !== canonicalJson(runIdentity(cfg))) {
        throw new Error(
          `run config ${file} belongs to another config (hash ${String(meta.hash)}, expected ${hash}): ${fix}`,
        );
      }
      addRunName(dir, name); // a resumed run asked for under another name records that name too
      return;
    }
    writeJsonAtomic(file, runMeta(cfg, [name]));
  }
}

/** Rows -> flat records: `group` keys become their own columns (a row's own field wins over a group key). */
export function flattenRows(rows: readonly ResultRow[]): Record<string, string | number>[] {
  return rows.map(({ group, ...r }) => {
    const out: Record<string, string | number> = { ...r };
    for (const [k, v] of Object.entries(group ?? {})) if (!(k in out)) out[k] = v;
    return out;
  });
}

/** RFC 4180 CSV of the rows (columns: the union of fields in first-seen order). */
export function toCsv(rows: readonly ResultRow[]): string {
  const flat = flattenRows(rows);
  const cols: string[] = [];
  for (const r of flat) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: string | number | undefined): string => {
    if (v === undefined) return "";
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(","), ...flat.map((r) => cols.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}
