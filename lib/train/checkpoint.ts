/**
 * Checkpoints: model variables by stable name, the AdamW state, the step, the data cursor and the config
 * hash, in files of a run directory:
 *   checkpoint.json          manifest (format, version, step, configHash, cursor, tensor table, sha256 of the bin)
 *   checkpoint-<step>.bin    all tensors as little-endian float32, concatenated in the manifest's order
 *   checkpoint.prev.json     the manifest of the checkpoint before (its .bin is kept too)
 * Writes are atomic and durable (lib/files.ts: temp + fsync + rename): the .bin first, then the previous
 * manifest is copied to checkpoint.prev.json, then the new manifest; the manifest's rename is the commit
 * point, so a crash at any moment leaves the previous checkpoint loadable. Only .bin files that neither
 * manifest names are removed, after the new manifest is on disk; so if the newest checkpoint is ever damaged
 * (a disk that lost data), the one before it is still there, and the error says how to resume from it.
 * A failed write (a full disk) leaves no temp file; temp files of killed processes are removed on the next save.
 *
 * A checkpoint from another format version, or written under another config hash, is rejected with an error
 * that names both values and the fix (a new run dir, or the same config). A truncated or corrupt manifest or
 * .bin is an error naming the file and the fix.
 */
import { createHash } from "crypto";
import fs from "fs";
import path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { stableName } from "../model/layers";
import { readJsonFile, removeStaleTemps, writeFileDurable } from "../files";
import type { AdamWState } from "./adamw";

export const CHECKPOINT_FORMAT = "lst-lab-checkpoint";
export const CHECKPOINT_VERSION = 1;
const MANIFEST = "checkpoint.json";
const PREV_MANIFEST = "checkpoint.prev.json";

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  /** the next step to run (steps 0..step-1 are done) */
  step: number;
  configHash: string;
  /** model variables by stable name, in the model's order */
  params: NamedArray[];
  optimizer: AdamWState;
  /** where the data stream stands (the batch stream is pure in the step, so { step } suffices today) */
  cursor: Record<string, number>;
  /** free-form JSON (resolved configs, best loss, ...) */
  meta: Record<string, unknown>;
}

interface Entry {
  name: string;
  kind: "param" | "adam.m" | "adam.v";
  shape: number[];
  /** offset and length in float32 values */
  offset: number;
  length: number;
}

interface Manifest {
  format: string;
  version: number;
  step: number;
  configHash: string;
  cursor: Record<string, number>;
  meta: Record<string, unknown>;
  adamT: number;
  bin: string;
  bytes: number;
  sha256: string;
  entries: Entry[];
}

/** Copy the values of model variables (keyed by stable name) for a checkpoint (asynchronous reads: webgpu has no synchronous one). */
export async function captureVariables(vars: readonly tf.Variable[]): Promise<NamedArray[]> {
  const data = await Promise.all(vars.map((v) => v.data() as Promise<Float32Array>));
  return vars.map((v, i) => ({ name: stableName(v.name), shape: v.shape.slice(), data: data[i] }));
}

/** Assign saved values to model variables; names, order and shapes must match. */
export function restoreVariables(vars: readonly tf.Variable[], saved: readonly NamedArray[]): void {
  if (saved.length !== vars.length)
    throw new Error(
      `checkpoint has ${saved.length} variables but the model has ${vars.length}: it is from another model config`,
    );
  vars.forEach((v, i) => {
    const s = saved[i];
    if (s.name !== stableName(v.name) || s.shape.join(",") !== v.shape.join(",")) {
      throw new Error(
        `checkpoint variable ${i} is '${s.name}' [${s.shape}] but the model has '${stableName(v.name)}' [${v.shape}]: it is from another model config`,
      );
    }
    tf.tidy(() => v.assign(tf.tensor(s.data, v.shape)));
  });
}

/** Write a checkpoint into `dir` (created if needed); returns the manifest path. */
export function saveCheckpoint(dir: string, ckpt: Checkpoint): string {
  fs.mkdirSync(dir, { recursive: true });
  const arrays: { kind: Entry["kind"]; a: NamedArray }[] = ckpt.params.map((a) => ({ kind: "param", a }));
  for (const s of ckpt.optimizer.slots) {
    const shape = ckpt.params.find((p) => p.name === s.name)?.shape ?? [s.m.length];
    arrays.push({ kind: "adam.m", a: { name: s.name, shape, data: s.m } });
    arrays.push({ kind: "adam.v", a: { name: s.name, shape, data: s.v } });
  }
  const total = arrays.reduce((n, x) => n + x.a.data.length, 0);
  const all = new Float32Array(total);
  const entries: Entry[] = [];
  let offset = 0;
  for (const { kind, a } of arrays) {
    all.set(a.data, offset);
    entries.push({ name: a.name, kind, shape: a.shape, offset, length: a.data.length });
    offset += a.data.length;
  }
  const buf = Buffer.from(all.buffer, all.byteOffset, all.byteLength);
  const bin = `checkpoint-${String(ckpt.step).padStart(8, "0")}.bin`;
  removeStaleTemps(dir, "checkpoint");
  writeFileDurable(path.join(dir, bin), buf);
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: ckpt.step,
    configHash: ckpt.configHash,
    cursor: ckpt.cursor,
    meta: ckpt.meta,
    adamT: ckpt.optimizer.t,
    bin,
    bytes: buf.byteLength,
    sha256: createHash("sha256").update(buf).digest("hex"),
    entries,
  };
  const file = path.join(dir, MANIFEST);
  const prevFile = path.join(dir, PREV_MANIFEST);
  const prev = fs.existsSync(file) ? fs.readFileSync(file) : null;
  if (prev) writeFileDurable(prevFile, prev);
  writeFileDurable(file, JSON.stringify(manifest, null, 1));
  const keep = new Set([bin, prev ? binNamedBy(prev.toString("utf8")) : null]);
  for (const f of fs.readdirSync(dir))
    if (/^checkpoint-\d+\.bin$/.test(f) && !keep.has(f)) fs.rmSync(path.join(dir, f));
  return file;
}

/** The .bin a manifest's text names (null when it does not parse). */
function binNamedBy(text: string): string | null {
  try {
    const m = JSON.parse(text) as Partial<Manifest>;
    return typeof m.bin === "string" ? m.bin : null;
  } catch {
    return null;
  }
}

/**
 * How to recover a run dir whose newest checkpoint is damaged: resume from the previous one when it is intact
 * (the exact command), else start over.
 */
function recoveryFix(dir: string): string {
  const prevFile = path.join(dir, PREV_MANIFEST);
  const restart = `delete ${path.join(dir, "checkpoint*")} to train that run from step 0`;
  if (!fs.existsSync(prevFile)) return restart;
  try {
    const p = JSON.parse(fs.readFileSync(prevFile, "utf8")) as Manifest;
    const binFile = path.join(dir, p.bin);
    const buf = fs.readFileSync(binFile);
    if (buf.byteLength !== p.bytes || createHash("sha256").update(buf).digest("hex") !== p.sha256) return restart;
    return `the previous checkpoint (step ${p.step}) is intact: run \`mv ${prevFile} ${path.join(dir, MANIFEST)}\` and the same command again to resume from step ${p.step} (the steps after it are recomputed identically), or ${restart}`;
  } catch {
    return restart;
  }
}

/** Whether `dir` holds a checkpoint manifest. */
export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST));
}

/**
 * Load the checkpoint of `dir`, or null when there is none. Throws when it was written by another format
 * version or under another config hash (pass `expect.configHash`), or when the .bin does not match.
 */
export function loadCheckpoint(dir: string, expect: { configHash?: string } = {}): Checkpoint | null {
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) return null;
  const m = readJsonFile(file, "checkpoint manifest", () => recoveryFix(dir)) as Manifest;
  if (typeof m !== "object" || m === null)
    throw new Error(`checkpoint manifest ${file} is corrupt (not a JSON object): ${recoveryFix(dir)}`);
  if (m.format !== CHECKPOINT_FORMAT || m.version !== CHECKPOINT_VERSION) {
    throw new Error(
      `checkpoint ${file} has format '${m.format}' version ${m.version}, this code reads '${CHECKPOINT_FORMAT}' version ${CHECKPOINT_VERSION}: train into a new directory or delete it`,
    );
  }
  if (expect.configHash !== undefined && m.configHash !== expect.configHash) {
    throw new Error(
      `checkpoint ${file} was written under config hash ${m.configHash}, but this run's config hashes to ${expect.configHash}: resume with the same config, or train into a new directory`,
    );
  }
  if (typeof m.bin !== "string" || typeof m.step !== "number" || !Array.isArray(m.entries)) {
    throw new Error(`checkpoint manifest ${file} is corrupt (lacks bin, step or entries): ${recoveryFix(dir)}`);
  }
  const binFile = path.join(dir, m.bin);
  if (!fs.existsSync(binFile))
    throw new Error(
      `checkpoint ${file} names ${m.bin}, which is missing: the run directory is incomplete; ${recoveryFix(dir)}`,
    );
  let buf: Buffer;
  try {
    buf = fs.readFileSync(binFile);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "EISDIR" ? "it is a directory, not a file" : (e as Error).message;
    throw new Error(`checkpoint data ${binFile} cannot be read (${why}): ${recoveryFix(dir)}`);
  }
  const sha = createHash("sha256").update(buf).digest("hex");
  if (buf.byteLength !== m.bytes || sha !== m.sha256) {
    const what = buf.byteLength < m.bytes ? "truncated" : "corrupt";
    throw new Error(
      `checkpoint data ${binFile} is ${what} (${buf.byteLength} bytes, sha256 ${sha.slice(0, 12)}; manifest says ${m.bytes} bytes, ${m.sha256.slice(0, 12)}): ${recoveryFix(dir)}`,
    );
  }
  // copy into an aligned buffer (a Buffer's byteOffset need not be a multiple of 4)
  const all = new Float32Array(buf.byteLength / 4);
  new Uint8Array(all.buffer).set(buf);
  const params: NamedArray[] = [];
  const slots = new Map<string, { m?: Float32Array; v?: Float32Array }>();
  const order: string[] = [];
  for (const e of m.entries) {
    const data = all.slice(e.offset, e.offset + e.length);
    if (e.kind === "param") {
      params.push({ name: e.name, shape: e.shape, data });
      continue;
    }
    if (!slots.has(e.name)) {
      slots.set(e.name, {});
      order.push(e.name);
    }
    const s = slots.get(e.name) as { m?: Float32Array; v?: Float32Array };
    if (e.kind === "adam.m") s.m = data;
    else s.v = data;
  }
  const optimizer: AdamWState = {
    t: m.adamT,
    slots: order.map((name) => {
      const s = slots.get(name) as { m?: Float32Array; v?: Float32Array };
      if (!s.m || !s.v) throw new Error(`checkpoint ${file} lacks the AdamW m or v of '${name}'`);
      return { name, m: s.m, v: s.v };
    }),
  };
  return { step: m.step, configHash: m.configHash, params, optimizer, cursor: m.cursor, meta: m.meta };
}
