/**
 * The parts of tfjs-node a compiled step uses: its native binding (libtensorflow's eager ops, tensors by
 * integer id, and the SavedModel session calls) and the backend object that maps tfjs tensors to those ids.
 * Nothing here is tfjs-node's public API, so every shape it relies on is written down below and checked
 * once by `nodeBackend()`, which returns null (and the caller stays eager) when something differs.
 *
 * How tfjs-node runs a kernel: `binding.executeOp(opName, attrs, inputIds, numOutputs)` with TF's own op
 * name and attrs, returning `{ id, shape, dtype }` per output. A tensor made from JS values keeps them on
 * the JS side until an op first reads it; then `binding.createTensor(shape, dtype, values)` gives it an id.
 * Identity and a variable's `assign` never reach the binding (they share the input's id).
 */
import * as tf from "@tensorflow/tfjs-core";

/** One attr of an eager op, as tfjs-node passes it (type: the binding's TF_ATTR_* code). */
export interface OpAttr {
  name: string;
  type: number;
  value: boolean | number | string | number[] | object;
}

/** A native tensor: its id in the binding's handle map, shape and TF dtype enum. */
export interface TensorMeta {
  id: number;
  shape: number[];
  dtype: number;
}

export type HostValues = Float32Array | Int32Array | Uint8Array;

export interface Binding {
  createTensor(shape: number[], dtype: number, values: HostValues): number;
  deleteTensor(id: number): void;
  tensorDataSync(id: number): HostValues;
  executeOp(op: string, attrs: OpAttr[], inputIds: number[], numOutputs: number): TensorMeta[];
  loadSavedModel(dir: string, tags: string): number;
  deleteSavedModel(id: number): void;
  runSavedModel(id: number, inputIds: number[], inputNames: string, outputNames: string): TensorMeta[];
  getNumOfTensors(): number;
  isUsingGpuDevice(): boolean;
  TF_FLOAT: number;
  TF_INT32: number;
  TF_INT64: number;
  TF_BOOL: number;
  TF_ATTR_STRING: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_SHAPE: number;
}

/** tfjs-node's NodeJSKernelBackend, the members used here. */
export interface NodeBackend {
  binding: Binding;
  /** the native ids of these tensors, creating the native tensor of one made from JS values first */
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  /** a tfjs tensor that owns the native tensor `meta.id` */
  createOutputTensor(meta: TensorMeta): tf.Tensor;
}

/** The binding methods a recorder replaces (the rest, constants included, are inherited unchanged). */
export type Hooks = Pick<Binding, "createTensor" | "deleteTensor" | "tensorDataSync" | "executeOp">;

/** The active backend as tfjs-node's, or null when it is another backend or its shape is not the expected one. */
export function nodeBackend(): NodeBackend | null {
  if (tf.getBackend() !== "tensorflow") return null;
  const be = tf.backend() as unknown as Partial<NodeBackend>;
  const b = be.binding as Partial<Binding> | undefined;
  const fns = ["createTensor", "deleteTensor", "tensorDataSync", "executeOp", "loadSavedModel", "runSavedModel"];
  if (!b || fns.some((f) => typeof (b as Record<string, unknown>)[f] !== "function")) return null;
  if (typeof be.getInputTensorIds !== "function" || typeof be.createOutputTensor !== "function") return null;
  return be as NodeBackend;
}

/** The native id of each tensor (made on the native side first where it still holds JS values). */
export function nativeIds(be: NodeBackend, tensors: tf.Tensor[]): number[] {
  return be.getInputTensorIds(tensors);
}

/**
 * Route the binding's op, tensor and read calls through `hooks` until the returned function is called.
 * subtle: the binding's methods are non-writable, so assigning over them silently keeps the originals; the
 * backend gets a wrapper object instead, whose own properties (set with defineProperty) shadow the binding's.
 */
export function hookBinding(be: NodeBackend, hooks: Hooks): () => void {
  const orig = be.binding;
  const wrapper = Object.create(orig) as Binding;
  for (const k of ["createTensor", "deleteTensor", "tensorDataSync", "executeOp"] as const)
    Object.defineProperty(wrapper, k, { value: hooks[k], enumerable: true });
  be.binding = wrapper;
  return () => {
    be.binding = orig;
  };
}

/** TF's dtype enum of a tfjs dtype (the ones a training step uses). */
export function tfDtype(b: Binding, dtype: tf.DataType): number {
  if (dtype === "float32") return b.TF_FLOAT;
  if (dtype === "int32") return b.TF_INT32;
  if (dtype === "bool") return b.TF_BOOL;
  throw new Error(`compiled step: dtype ${dtype} is not supported`);
}

/** The little-endian bytes of host values (a copy, so later writes to the source do not change it). */
export function hostBytes(v: HostValues): Uint8Array {
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}
