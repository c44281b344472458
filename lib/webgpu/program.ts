/**
 * Running a hand-written WGSL compute shader on tfjs's webgpu backend, and registering it as a kernel with
 * its gradient. Every fused kernel of lib/webgpu/ goes through these two functions.
 *
 *   runWgsl(backend, spec, inputs, uniforms)   one dispatch; returns the output TensorInfo
 *   registerFused({ name, forward, grad })     `name` becomes a webgpu kernel; the model calls it by name
 *
 * What tfjs adds around `spec.body` (webgpu_program.js `makeShader`): each input `X` of `spec.inputs` is bound
 * read-only as `var<storage, read> X: array<f32>` (i32 for int32 inputs), the output as `result:
 * array<f32>`; a uniform block `uniforms` holds `xShape`/`xShapeStrides` per input (lower-cased first letter),
 * `outShape`, `outShapeStrides`, then `spec.uniforms` in order. Builtins are private globals set before `main`:
 * `localId`, `localIndex`, `globalId`, `workgroupId`, `numWorkgroups` (vec3<u32> / u32). `spec.body` must
 * define `fn main(index: i32)`: `index` is the thread's flat number over the whole dispatch, (z * nx * ny +
 * y * nx + x) * (threads per workgroup) + localIndex for workgroup (x, y, z), valid when the workgroup size is
 * [n, 1, 1]; a kernel that works per workgroup ignores it. It may use `var<workgroup>` arrays and
 * `workgroupBarrier()`.
 *
 * One output per dispatch: tfjs binds a single writable buffer. A kernel with two results (attention's
 * output and its log-sum-exp) writes them into one packed buffer; the caller slices it.
 *
 * Shader cache: tfjs caches a compiled pipeline by `spec.key` plus the inputs' ranks and dtypes, not their
 * sizes, so sizes must come through uniforms (or the key must name them, as a constant compiled in).
 *
 * Example (a test runs it on lavapipe): out[i] = 2 * X[i] over n values:
 *   runWgsl(b, { key: "double", outputShape: [n], inputs: ["X"], workgroupSize: [64, 1, 1],
 *     dispatch: [ceil(n / 64), 1, 1], uniforms: [{ name: "n", type: "i32" }],
 *     body: `fn main(index: i32) { if (index < uniforms.n) { result[index] = 2.0 * X[index]; } }` },
 *     [x], [n]);
 */
import * as tf from "@tensorflow/tfjs-core";

/** A WGSL uniform of the program (after tfjs's own ones). */
export interface WgslUniform {
  name: string;
  type: "i32" | "f32";
}

export interface WgslSpec {
  /** shader cache key: must differ between programs whose `body` differs (see the header) */
  key: string;
  outputShape: number[];
  outputDtype?: "float32" | "int32";
  /** names of the bound inputs, in the order of `inputs` (capitalised: tfjs derives `xShape` from `X`) */
  inputs: string[];
  workgroupSize: [number, number, number];
  /** workgroups along x, y, z (each at most the adapter's maxComputeWorkgroupsPerDimension, 65535) */
  dispatch: [number, number, number];
  uniforms?: WgslUniform[];
  /**
   * per input, values a binding element holds: 4 binds it as `array<vec4<f32>>` (tfjs's `variableComponents`;
   * the input's size must be a multiple of 4). Default 1 each; part of the shader key.
   */
  inputComponents?: number[];
  /** WGSL: helper functions and `fn main(index: i32)` */
  body: string;
}

/** The part of tfjs's WebGPUBackend used here. */
export interface WebgpuBackendLike {
  runWebGPUProgram(
    program: unknown,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: { type: "int32" | "float32"; data: number[] }[],
  ): tf.TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

/** Most workgroups along one dispatch dimension (WebGPU's default limit). */
export const MAX_WORKGROUPS = 65535;

/**
 * Workgroups for one thread per value over `n` values with `perGroup` threads a group: along x, folded into y
 * past 65535 groups (`index` in `main` counts across both). Example: n = 10^7, perGroup 128 -> [65535, 2, 1].
 */
export function flatDispatch(n: number, perGroup: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / perGroup));
  return groups <= MAX_WORKGROUPS ? [groups, 1, 1] : [MAX_WORKGROUPS, Math.ceil(groups / MAX_WORKGROUPS), 1];
}

/** Run one WGSL program (see the header) on `inputs`; `uniformValues` in the order of `spec.uniforms`. */
export function runWgsl(
  backend: WebgpuBackendLike,
  spec: WgslSpec,
  inputs: tf.TensorInfo[],
  uniformValues: number[] = [],
): tf.TensorInfo {
  const uniforms = spec.uniforms ?? [];
  if (uniformValues.length !== uniforms.length)
    throw new Error(`${spec.key}: ${uniformValues.length} uniform values for ${uniforms.length} uniforms`);
  if (inputs.length !== spec.inputs.length)
    throw new Error(`${spec.key}: ${inputs.length} inputs for ${spec.inputs.length} names (${spec.inputs})`);
  for (const d of spec.dispatch)
    if (!(d >= 1 && d <= MAX_WORKGROUPS && Number.isInteger(d)))
      throw new Error(`${spec.key}: dispatch [${spec.dispatch}] is outside 1..${MAX_WORKGROUPS} per dimension`);
  const program = {
    variableNames: spec.inputs,
    outputShape: spec.outputShape,
    shaderKey: `lst_${spec.key}${spec.inputComponents ? `_c${spec.inputComponents.join("")}` : ""}`, // tfjs's key omits components
    dispatchLayout: { x: spec.outputShape.map((_, i) => i) },
    dispatch: spec.dispatch,
    workgroupSize: spec.workgroupSize,
    uniforms: uniforms.map((u) => `${u.name} : ${u.type},`).join(" "),
    getUserCode: () => spec.body,
    ...(spec.inputComponents ? { variableComponents: spec.inputComponents } : {}),
  };
  const data = uniforms.map((u, i) => ({
    type: u.type === "i32" ? ("int32" as const) : ("float32" as const),
    data: [uniformValues[i]],
  }));
  return backend.runWebGPUProgram(program, inputs, spec.outputDtype ?? "float32", data);
}

/** Free an intermediate TensorInfo a kernel made and does not return. */
export function disposeInfo(backend: WebgpuBackendLike, t: tf.TensorInfo): void {
  backend.disposeData(t.dataId);
}

type ForwardFunc = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: WebgpuBackendLike;
  attrs: tf.NamedAttrMap;
}) => tf.TensorInfo | tf.TensorInfo[];

/**
 * Register `name` as a webgpu kernel (the forward) and, when given, its gradient (a GradConfig whose gradFunc
 * calls other registered kernels through `tf.engine().runKernel`, or plain tf ops). Idempotent: a second call
 * for a name already registered does nothing.
 */
export function registerFused(k: { name: string; forward: ForwardFunc; grad?: tf.GradConfig }): void {
  if (tf.getKernel(k.name, "webgpu") === undefined)
    tf.registerKernel({ kernelName: k.name, backendName: "webgpu", kernelFunc: k.forward as unknown as tf.KernelFunc });
  if (k.grad && tf.getGradient(k.name) === undefined) tf.registerGradient(k.grad);
}
