/**
 * Optional WebGPU features for the fused kernels: `subgroups` (subgroupAdd / subgroupMax across the lanes of a
 * SIMD group, so a row reduction needs no shared-memory tree and no barriers) and `shader-f16` (half floats in
 * WGSL, used by matmul.ts's opt-in f16 tiles). tfjs-backend-webgpu 4.22 asks the adapter for neither, and a
 * WGSL `enable` directive must open the shader module while tfjs prepends its own code to a program's body.
 * Two wrappers close the gap, both installed by `withFeatures(adapter)`, which `initWebgpu` hands to tfjs in
 * place of the adapter itself:
 *   - the adapter's `requestDevice` also requires `shader-f16` and `subgroups` where the adapter lists them;
 *   - the device's `createShaderModule` hoists the directives a shader asks for by a marker line,
 *     `// lst-enable: f16, subgroups` (`enableMarker`), to the module's first line (`hoistEnables`).
 * A kernel writes the marker into its body only when `webgpuFeatures()` says the device has the feature, so a
 * device without it never sees the directive. Nothing else in the shader changes: tfjs's own programs carry
 * no marker and compile as before.
 *
 *   webgpuFeatures()   what the device tfjs runs on really has (false, false before the backend starts)
 *   subgroupsOn()      subgroups there and not turned off by LST_WEBGPU_SUBGROUPS=0 (read at each call)
 *   f16On()            shader-f16 there and asked for by LST_WEBGPU_F16=1 (never on by default)
 *
 * Worked example (a test, test/webgpu/cases/features.ts): hoistEnables("struct U {};\n// lst-enable: f16,
 * subgroups\nfn main() {}") returns "enable f16;\nenable subgroups;\nstruct U {};\n// lst-enable: f16,
 * subgroups\nfn main() {}"; a code without the marker comes back unchanged.
 */

/** The WGSL extensions a marker may name, and the device feature each needs. */
const EXTENSIONS = { f16: "shader-f16", subgroups: "subgroups" } as const;
export type WgslExtension = keyof typeof EXTENSIONS;

const MARKER = "// lst-enable:";

/** The marker line that asks `hoistEnables` for the given directives. Example: ["subgroups"] -> "// lst-enable: subgroups". */
export function enableMarker(exts: readonly WgslExtension[]): string {
  return exts.length === 0 ? "" : `${MARKER} ${exts.join(", ")}`;
}

/** Put `enable <ext>;` for every extension a marker line names in front of `code` (see the header). */
export function hoistEnables(code: string): string {
  const names = new Set<WgslExtension>();
  for (const line of code.split("\n")) {
    const at = line.indexOf(MARKER);
    if (at < 0 || line.slice(0, at).trim() !== "") continue;
    for (const n of line.slice(at + MARKER.length).split(",")) {
      const name = n.trim();
      if (!(name in EXTENSIONS)) throw new Error(`lst-enable: unknown WGSL extension '${name}' (${line.trim()})`);
      names.add(name as WgslExtension);
    }
  }
  if (names.size === 0) return code;
  return [...names].map((n) => `enable ${n};\n`).join("") + code;
}

/** The parts of the WebGPU API used here (the lib compiles without @webgpu/types). */
interface FeatureSet {
  has(name: string): boolean;
}
interface DeviceLike {
  features: FeatureSet;
  createShaderModule(desc: { code: string; label?: string }): unknown;
}
interface DeviceDescriptor {
  requiredFeatures?: Iterable<unknown>;
  [k: string]: unknown;
}
export interface FeatureAdapter {
  features: FeatureSet;
  requestDevice(desc?: DeviceDescriptor): Promise<DeviceLike>;
  /** Dawn's adapter info carries the subgroup size range (lavapipe: 8 and 8) */
  info?: { subgroupMinSize?: number };
}

/** WebGPU's smallest allowed subgroup size, for an adapter that does not say */
const MIN_SUBGROUP = 4;

const state = { f16: false, subgroups: false, subgroupMinSize: MIN_SUBGROUP };

/** What the webgpu backend's device has (see the header); both false until `withFeatures`' device exists. */
export function webgpuFeatures(): { f16: boolean; subgroups: boolean } {
  return { f16: state.f16, subgroups: state.subgroups };
}

/** The adapter's smallest subgroup size (4 where it does not say), for the kernels' rows per workgroup. */
export function subgroupMinSize(): number {
  return state.subgroupMinSize;
}

/** Whether the kernels use their subgroup variants now: the device has `subgroups`, and LST_WEBGPU_SUBGROUPS != 0. */
export function subgroupsOn(): boolean {
  return state.subgroups && process.env.LST_WEBGPU_SUBGROUPS !== "0";
}

/** Whether matmul.ts keeps its tiles in f16: the device has `shader-f16`, and LST_WEBGPU_F16=1. */
export function f16On(): boolean {
  return state.f16 && process.env.LST_WEBGPU_F16 === "1";
}

/** Of `features`, the names of the wanted ones (Example: an adapter listing both -> ["shader-f16", "subgroups"]). */
export function wantedFeatures(features: FeatureSet): string[] {
  return Object.values(EXTENSIONS).filter((f) => features.has(f));
}

/** Wrap the device's createShaderModule with `hoistEnables` and record its features. */
function wrapDevice<D extends DeviceLike>(device: D): D {
  state.f16 = device.features.has(EXTENSIONS.f16);
  state.subgroups = device.features.has(EXTENSIONS.subgroups);
  const create = device.createShaderModule.bind(device);
  device.createShaderModule = (desc) => create({ ...desc, code: hoistEnables(desc.code) });
  return device;
}

/**
 * The adapter as tfjs should see it: the same object (a Proxy: every property and method reads through to
 * the native adapter) whose `requestDevice` adds the wanted features to tfjs's `requiredFeatures`.
 */
export function withFeatures<A extends FeatureAdapter>(adapter: A): A {
  const requestDevice = async (desc: DeviceDescriptor = {}): Promise<DeviceLike> => {
    const asked = [...(desc.requiredFeatures ?? [])].map(String); // tfjs 4.22 pushes ['bgra8unorm-storage'] as an array
    const required = [...new Set([...asked, ...wantedFeatures(adapter.features)])];
    const min = adapter.info?.subgroupMinSize;
    state.subgroupMinSize = typeof min === "number" && min >= MIN_SUBGROUP ? min : MIN_SUBGROUP;
    return wrapDevice(await adapter.requestDevice({ ...desc, requiredFeatures: required }));
  };
  return new Proxy(adapter, {
    get(target, prop) {
      if (prop === "requestDevice") return requestDevice;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
