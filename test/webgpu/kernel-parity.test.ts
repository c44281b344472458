/**
 * Every fused webgpu kernel (lib/webgpu/) against the tensorflow backend's composed ops: each case of
 * test/webgpu/cases/ runs in a webgpu child (Dawn on lavapipe here, a GPU's Vulkan driver elsewhere) and in a
 * tensorflow child, and every value and gradient must agree within the case's tolerance. On webgpu the case's
 * fused kernels must show in tf.profile's kernel list (so a kernel that silently fell back to the composed ops
 * fails), and no case may leak a tensor on either backend.
 *
 * Without a WebGPU adapter the test FAILS with the driver to install; LST_SKIP_WEBGPU=1 skips it instead.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const CHILD = path.join(__dirname, "kernel-parity-child.ts");

interface CaseOut {
  values: Record<string, number[]> | null;
  kernels: string[];
  error: string | null;
}
interface ChildOut {
  backend: string;
  describe: string;
  cases: Record<string, CaseOut>;
}

function runChild(backend: string, env: Record<string, string> = {}): { out: ChildOut | null; err: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", CHILD], {
    cwd: ROOT,
    env: { ...process.env, LST_BACKEND: backend, ...env },
    encoding: "utf8",
    timeout: 600_000,
    maxBuffer: 1 << 26,
  });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  return { out: r.status === 0 && line.startsWith("{") ? (JSON.parse(line) as ChildOut) : null, err: r.stderr };
}

/** The worst |a - b| / (1 + |b|) over two arrays, and where. */
function worst(a: number[], b: number[]): { err: number; at: number } {
  let err = 0;
  let at = -1;
  for (let i = 0; i < b.length; i++) {
    const e = Number.isFinite(a[i]) ? Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])) : Infinity;
    if (e > err) [err, at] = [e, i];
  }
  return { err, at };
}

test("every fused webgpu kernel matches the tensorflow backend (values and gradients)", async (t) => {
  const wg = runChild("webgpu");
  if (wg.out === null && /no WebGPU adapter|Dawn failed to start/.test(wg.err)) {
    if (process.env.LST_SKIP_WEBGPU === "1") return t.skip("no WebGPU adapter (LST_SKIP_WEBGPU=1)");
    assert.fail(
      `${wg.err.slice(-800)}\n(set LST_SKIP_WEBGPU=1 to skip on a machine without a Vulkan driver on purpose)`,
    );
  }
  assert.ok(wg.out, `webgpu child failed:\n${wg.err.slice(-3000)}`);
  assert.equal(wg.out.backend, "webgpu");
  const tfn = runChild("tensorflow");
  assert.ok(tfn.out, `tensorflow child failed:\n${tfn.err.slice(-3000)}`);
  const { cases: all } = await import("./cases/index");
  const only = process.env.LST_CASES ?? ""; // the children's filter (see kernel-parity-child.ts)
  const cases = all.filter((c) => c.name.includes(only));
  const names = Object.keys(tfn.out.cases);
  assert.ok(names.length >= cases.length, `the tensorflow child ran ${names.length} of ${cases.length} cases`);
  for (const c of cases) {
    await t.test(c.name, () => {
      const a = wg.out!.cases[c.name];
      const b = tfn.out!.cases[c.name];
      assert.ok(a && b, `case '${c.name}' missing from a child`);
      assert.equal(b.error, null, `tensorflow: ${b.error}`);
      assert.equal(a.error, null, `webgpu: ${a.error}`);
      for (const k of c.kernels)
        assert.ok(a.kernels.includes(k), `webgpu ran [${a.kernels.join(", ")}], not the fused kernel ${k}`);
      for (const [key, ref] of Object.entries(b.values!)) {
        const got = a.values![key];
        assert.equal(got?.length, ref.length, `${key}: ${got?.length} values on webgpu, ${ref.length} on tensorflow`);
        const w = worst(got, ref);
        assert.ok(w.err <= (c.tol ?? 1e-4), `${key}[${w.at}]: webgpu ${got[w.at]} vs tensorflow ${ref[w.at]}`);
      }
    });
  }
});
