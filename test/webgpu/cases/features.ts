/**
 * Optional WebGPU features (lib/webgpu/features.ts): the marker hoisting's worked example, and that
 * `webgpuFeatures()` reports what the adapter lists (`shader-f16`, `subgroups`) and the device tfjs runs on
 * really has. Also the helpers the row-kernel and matmul cases use to run a variant under an environment
 * setting (`withEnv`) and to prove which row-kernel variant ran (`rowPath`).
 */
import * as tf from "@tensorflow/tfjs-core";
import { probeWebgpu } from "../../../lib/backend-webgpu";
import { enableMarker, hoistEnables, webgpuFeatures } from "../../../lib/webgpu/features";
import { rowKernelStats } from "../../../lib/webgpu/row-kernel";
import type { KernelCase } from "./types";

/** Run `f` with `process.env[name]` set to `value` (undefined: unset), then put it back as it was. */
export async function withEnv<T>(name: string, value: string | undefined, f: () => Promise<T>): Promise<T> {
  const had = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await f();
  } finally {
    if (had === undefined) delete process.env[name];
    else process.env[name] = had;
  }
}

/**
 * Run `f`; on webgpu, check that the row kernels (RMSNorm, cross-entropy's log-sum-exp) took the subgroup
 * variant when `subgroups` is true and the device has the feature, and the shared-memory tree otherwise.
 */
export async function rowPath<T>(subgroups: boolean, f: () => Promise<T>): Promise<T> {
  const before = rowKernelStats();
  const out = await withEnv("LST_WEBGPU_SUBGROUPS", subgroups ? undefined : "0", f);
  if (tf.getBackend() !== "webgpu") return out;
  const after = rowKernelStats();
  const got = { subgroup: after.subgroup - before.subgroup, tree: after.tree - before.tree };
  const want = subgroups && webgpuFeatures().subgroups ? "subgroup" : "tree";
  if (got[want] === 0 || got[want === "tree" ? "subgroup" : "tree"] !== 0)
    throw new Error(`row kernels ran ${JSON.stringify(got)}, expected only the ${want} variant`);
  return out;
}

export const cases: KernelCase[] = [
  {
    name: "features: hoistEnables worked example",
    kernels: [],
    run: async () => {
      const code = `struct U {};\n${enableMarker(["f16", "subgroups"])}\nfn main() {}`;
      const want = "enable f16;\nenable subgroups;\nstruct U {};\n// lst-enable: f16, subgroups\nfn main() {}";
      if (hoistEnables(code) !== want) throw new Error(`hoisted: ${JSON.stringify(hoistEnables(code))}`);
      const plain = "fn main() {} // lst-enable: f16 (not at a line's start: no marker)";
      if (hoistEnables(plain) !== plain) throw new Error("a code without a marker line changed");
      let threw = false;
      try {
        hoistEnables("// lst-enable: f64");
      } catch {
        threw = true;
      }
      if (!threw) throw new Error("an unknown extension was accepted");
      return { ok: [1] };
    },
  },
  {
    name: "features: webgpuFeatures() = what the adapter lists = what the device has",
    kernels: [],
    run: async () => {
      if (tf.getBackend() !== "webgpu") return {};
      const probe = await probeWebgpu();
      if (!probe.ok) throw new Error(probe.why);
      const listed = probe.adapter.features ?? [];
      const device = (tf.backend() as unknown as { device: { features: { has(f: string): boolean } } }).device;
      const got = webgpuFeatures();
      const want = { f16: listed.includes("shader-f16"), subgroups: listed.includes("subgroups") };
      const has = { f16: device.features.has("shader-f16"), subgroups: device.features.has("subgroups") };
      if (JSON.stringify(got) !== JSON.stringify(want) || JSON.stringify(has) !== JSON.stringify(want))
        throw new Error(
          `adapter lists [${listed}], device has ${JSON.stringify(has)}, webgpuFeatures() ${JSON.stringify(got)}`,
        );
      return {};
    },
  },
];
