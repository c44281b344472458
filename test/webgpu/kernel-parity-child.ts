/**
 * Child of kernel-parity.test.ts (the backend is process-global): runs every case of test/webgpu/cases/ on the
 * backend named by LST_BACKEND and prints one JSON line: per case its named arrays, the kernels tf.profile saw,
 * and the error if it threw. LST_CASES=<substring> runs only the cases whose name contains it.
 */
import fs from "fs";
import path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { checkDeviceErrors, describeBackend, initBackend } from "../../lib/backend";
import type { KernelCase } from "./cases/types";

interface CaseOut {
  values: Record<string, number[]> | null;
  kernels: string[];
  error: string | null;
}

async function main(): Promise<void> {
  const report = await initBackend();
  const dir = path.join(__dirname, "cases");
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && f !== "types.ts" && f !== "index.ts")
    .sort();
  const only = process.env.LST_CASES ?? "";
  const out: Record<string, CaseOut> = {};
  for (const f of files) {
    const mod = (await import(path.join(dir, f))) as { cases: KernelCase[] };
    for (const c of mod.cases) {
      if (only && !c.name.includes(only)) continue;
      let values: Record<string, number[]> | null = null;
      let error: string | null = null;
      const before = tf.memory().numTensors;
      const info = await tf.profile(async () => {
        try {
          values = await c.run();
          checkDeviceErrors(`case '${c.name}' read back`); // a rejected shader reads back as zeros
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
      });
      const leaked = tf.memory().numTensors - before;
      if (error === null && leaked !== 0) error = `${leaked} tensors leaked`;
      out[c.name] = { values, kernels: [...new Set(info.kernelNames)], error };
    }
  }
  console.log(JSON.stringify({ backend: report.backend, describe: describeBackend(report), cases: out }));
}

main().catch((e: unknown) => {
  console.error(`ERR: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(3);
});
