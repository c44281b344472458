/**
 * Recording a training step at the binding (native.ts): `traceStep` runs it for real and writes down every
 * eager op; `captureStep` replays a later step against that record without running anything.
 *
 * A trace is the op list of one step, every input named by where it comes from (a `Ref`):
 *   op     output k of an earlier op of the step
 *   state  a tensor given to the step (parameters, AdamW m and v): a Placeholder of the graph
 *   made   a tensor the step built from JS values (gather indices, masks, targets, the lr scalars), in the
 *          order the binding created them: a Const, or a Placeholder when it changes between steps
 *   ext    a tensor that existed before the step and is not state (the models' cached RoPE tables and
 *          masks): a Const holding the value read at trace time
 *
 * Capture mode answers each `executeOp` with the traced op's output shapes (fake ids, nothing runs) after
 * checking that the op, its attrs and the sources of its inputs are the traced ones; it records the values
 * of the tensors the step makes. What a capture gives: whether this step is the traced one (else `Mismatch`)
 * and the values to feed. In capture mode the made tensors are real native tensors (their ids are fed to the
 * session as they are); the ones tfjs disposes during the step are kept until the caller releases them.
 *
 * Worked example (also a test): tracing `tf.add(w, tf.scalar(2))` with w as state 0 gives one made tensor
 * (the 2, shape [], DT_FLOAT) and ops [{ op: "Add", inputs: [{state 0}, {made 0}] }], output {op 0, out 0}.
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  hookBinding,
  nativeIds,
  tfDtype,
  type HostValues,
  type NodeBackend,
  type OpAttr,
  type TensorMeta,
} from "./native";

export type Ref =
  | { k: "op"; op: number; out: number }
  | { k: "state"; slot: number }
  | { k: "made"; at: number }
  | { k: "ext"; at: number };

export interface HostTensor {
  shape: number[];
  dtype: number;
  values: HostValues;
}

export interface TracedOp {
  op: string;
  attrs: OpAttr[];
  inputs: Ref[];
  outputs: { shape: number[]; dtype: number }[];
}

export interface Trace {
  ops: TracedOp[];
  made: HostTensor[];
  ext: (HostTensor & { id: number })[];
  state: { shape: number[]; dtype: number }[];
  outputs: Ref[];
}

/** A capture that found another step than the traced one (another op, attr, input or shape). */
export class Mismatch extends Error {}

/** Fake ids of capture mode's outputs: far above the binding's counter (which starts at 0), never passed to it. */
const FAKE_BASE = 1 << 30;

const sameRef = (a: Ref, b: Ref): boolean =>
  a.k === b.k &&
  (a.k === "op"
    ? a.op === (b as typeof a).op && a.out === (b as typeof a).out
    : a.k === "state"
      ? a.slot === (b as typeof a).slot
      : a.at === (b as { at: number }).at);

/** Attrs equal in name, type and value (numbers, strings, booleans or arrays of them: what tfjs-node passes). */
function sameAttrs(a: readonly OpAttr[], b: readonly OpAttr[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.name !== y.name || x.type !== y.type) return false;
    const u = x.value;
    const v = y.value;
    if (u === v) continue;
    if (!Array.isArray(u) || !Array.isArray(v) || u.length !== v.length) return false;
    for (let j = 0; j < u.length; j++) if (u[j] !== v[j]) return false;
  }
  return true;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

function copyValues(v: HostValues): HostValues {
  return v.slice() as HostValues;
}

/** A tfjs tensor's native dtype from its host values' array type (the tfjs dtypes a step uses). */
function dtypeOfValues(be: NodeBackend, v: HostValues): number {
  const b = be.binding;
  if (v instanceof Float32Array) return b.TF_FLOAT;
  if (v instanceof Int32Array) return b.TF_INT32;
  return b.TF_BOOL;
}

/**
 * The tensors of a step's result that the graph returns, in order, and how to free the rest of it. The
 * result may hold tensors that are not outputs (none in the lab's step).
 */
export interface StepFn<T> {
  run(): T;
  outputs(r: T): tf.Tensor[];
  dispose(r: T): void;
  /** drop what an interrupted step left behind (the optimiser's pending flat gradients) */
  abort(): void;
}

/** After a step that threw inside `tf.variableGrads`: the engine keeps its tape (and the tensors it saved). */
function dropTape(): void {
  const state = (
    tf.engine() as unknown as { state: { activeTape: { saved?: tf.Tensor[] }[] | null; gradientDepth: number } }
  ).state;
  if (state.activeTape && state.gradientDepth === 0) {
    for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
    state.activeTape = null;
  }
}

/** Run one step for real and record it. `state` are the step's inputs that become Placeholders. */
export function traceStep<T>(be: NodeBackend, state: tf.Tensor[], fn: StepFn<T>): { result: T; trace: Trace } {
  const orig = be.binding;
  const refs = new Map<number, Ref>();
  const stateIds = nativeIds(be, state);
  stateIds.forEach((id, slot) => refs.set(id, { k: "state", slot }));
  const trace: Trace = {
    ops: [],
    made: [],
    ext: [],
    state: state.map((t) => ({ shape: t.shape.slice(), dtype: tfDtype(orig, t.dtype) })),
    outputs: [],
  };
  const refOf = (id: number): Ref => {
    const r = refs.get(id);
    if (r) return r;
    // a tensor from before the step: read its value and shape now (an Identity gives the shape)
    const values = copyValues(orig.tensorDataSync(id));
    const dtype = dtypeOfValues(be, values);
    const [meta] = orig.executeOp("Identity", [{ name: "T", type: orig.TF_ATTR_TYPE, value: dtype }], [id], 1);
    orig.deleteTensor(meta.id);
    const ext: Ref = { k: "ext", at: trace.ext.length };
    trace.ext.push({ id, shape: meta.shape, dtype: meta.dtype, values });
    refs.set(id, ext);
    return ext;
  };
  const unhook = hookBinding(be, {
    createTensor: (shape, dtype, values) => {
      const id = orig.createTensor(shape, dtype, values);
      refs.set(id, { k: "made", at: trace.made.length });
      trace.made.push({ shape: shape.slice(), dtype, values: copyValues(values) });
      return id;
    },
    deleteTensor: (id) => orig.deleteTensor(id),
    tensorDataSync: (id) => orig.tensorDataSync(id),
    executeOp: (op, attrs, inputIds, n) => {
      const inputs = inputIds.map(refOf);
      const metas = orig.executeOp(op, attrs, inputIds, n);
      const at = trace.ops.length;
      metas.forEach((m, out) => refs.set(m.id, { k: "op", op: at, out }));
      trace.ops.push({
        op,
        attrs,
        inputs,
        outputs: metas.map((m) => ({ shape: m.shape.slice(), dtype: m.dtype })),
      });
      return metas;
    },
  });
  let result: T;
  try {
    result = fn.run();
    trace.outputs = nativeIds(be, fn.outputs(result)).map(refOf);
  } catch (e) {
    fn.abort();
    dropTape();
    throw e;
  } finally {
    unhook();
  }
  return { result, trace };
}

/** What a capture leaves: the made tensors' values and native ids, to feed; `release()` frees the ids tfjs let go. */
export interface Capture {
  made: HostTensor[];
  madeIds: number[];
  release(): void;
}

/**
 * Replay a step against `trace` without running it. Throws `Mismatch` when the step differs from the traced
 * one (another shape, op or input source) or reads a value it computed (no graph can serve such a step).
 */
export function captureStep<T>(be: NodeBackend, trace: Trace, state: tf.Tensor[], fn: StepFn<T>): Capture {
  const orig = be.binding;
  const refs = new Map<number, Ref>();
  const stateIds = nativeIds(be, state);
  stateIds.forEach((id, slot) => refs.set(id, { k: "state", slot }));
  const extAt = new Map(trace.ext.map((e, at) => [e.id, at]));
  const made: HostTensor[] = [];
  const madeIds: number[] = [];
  /** made ids tfjs disposed during the capture: freed by `release` */
  const dropped: number[] = [];
  const madeSet = new Set<number>();
  let nextFake = FAKE_BASE;
  let liveFakes = 0;
  let cursor = 0;
  const fail = (why: string): never => {
    throw new Mismatch(`op ${cursor} of ${trace.ops.length}: ${why}`);
  };
  const release = () => {
    for (const id of dropped) orig.deleteTensor(id);
    dropped.length = 0;
  };
  const unhook = hookBinding(be, {
    createTensor: (shape, dtype, values) => {
      const t = trace.made[made.length];
      if (!t || t.dtype !== dtype || !sameShape(t.shape, shape))
        fail(`made tensor ${made.length} has shape [${shape}] (traced [${t?.shape ?? "none"}])`);
      const id = orig.createTensor(shape, dtype, values);
      if (id >= FAKE_BASE) fail(`native tensor id ${id} reached the capture's fake ids`);
      refs.set(id, { k: "made", at: made.length });
      // no copy: the values are compared and fed within this step, and tfjs dropped its reference on creation
      made.push({ shape, dtype, values });
      madeIds.push(id);
      madeSet.add(id);
      return id;
    },
    deleteTensor: (id) => {
      if (id >= FAKE_BASE) liveFakes--;
      else if (madeSet.has(id)) dropped.push(id);
      else orig.deleteTensor(id);
    },
    tensorDataSync: (id) => {
      if (id >= FAKE_BASE) fail("the step reads a value it computed (a host read mid-step)");
      return orig.tensorDataSync(id);
    },
    executeOp: (op, attrs, inputIds, n) => {
      const t = trace.ops[cursor];
      if (!t) fail(`an extra op ${op}`);
      if (t.op !== op || t.outputs.length !== n) fail(`${op} where the trace has ${t.op}`);
      if (t.inputs.length !== inputIds.length) fail(`${op} with ${inputIds.length} inputs, traced ${t.inputs.length}`);
      if (!sameAttrs(t.attrs, attrs)) fail(`${op} with other attrs`);
      inputIds.forEach((id, j) => {
        const r = refs.get(id) ?? (extAt.has(id) ? { k: "ext" as const, at: extAt.get(id) as number } : null);
        if (!r || !sameRef(r, t.inputs[j])) fail(`${op} input ${j} comes from elsewhere than in the trace`);
      });
      const at = cursor++;
      return t.outputs.map((o, out): TensorMeta => {
        const id = nextFake++;
        liveFakes++;
        refs.set(id, { k: "op", op: at, out });
        return { id, shape: o.shape.slice(), dtype: o.dtype };
      });
    },
  });
  try {
    const result = fn.run();
    try {
      const outs = nativeIds(be, fn.outputs(result)).map((id) => refs.get(id) ?? extAt.get(id));
      if (cursor !== trace.ops.length) fail(`the step ran ${cursor} ops`);
      if (made.length !== trace.made.length) fail(`the step made ${made.length} tensors`);
      if (
        outs.length !== trace.outputs.length ||
        outs.some((r, i) => typeof r !== "object" || !sameRef(r, trace.outputs[i]))
      )
        fail("the step's outputs differ");
    } finally {
      fn.dispose(result);
    }
    // subtle: a fake tensor still alive now was stored by the model (a cache filled during the capture); it
    // would hand a fake id to the binding later, so the step must be refused loudly, not silently
    if (liveFakes !== 0)
      throw new Error(
        `compiled step: ${liveFakes} tensors computed during a capture outlived the step (a model cache filled mid-step); train with compile: "off"`,
      );
  } catch (e) {
    fn.abort();
    dropTape();
    release();
    throw e;
  } finally {
    unhook();
  }
  return { made, madeIds, release };
}
