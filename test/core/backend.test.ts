import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

/** Run a tiny script in a fresh process (backend choice is process-global) and return its JSON output. */
function probe(env: Record<string, string>, code: string): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", code], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const REPORT = `const b=require('./lib/backend');b.initBackend().then(r=>{console.log(JSON.stringify(r));}).catch(e=>{console.error('ERR:'+e.message);process.exit(3)})`;

test("default selection picks the best available backend and explains the rejected ones", () => {
  const env: Record<string, string> = {};
  delete process.env.LST_BACKEND;
  const r = probe(env, REPORT);
  assert.equal(r.status, 0, r.err);
  const rep = JSON.parse(r.out.trim().split("\n").pop()!);
  // On these machines the native backend is built by postinstall; elsewhere wasm is acceptable but must say why.
  assert.ok(["tensorflow", "wasm", "cpu"].includes(rep.backend));
  if (rep.backend !== "tensorflow")
    assert.ok(rep.rejected.some((x: { backend: string }) => x.backend === "tensorflow"));
  assert.ok(
    rep.rejected.some(
      (x: { backend: string; why: string }) => x.backend.startsWith("tensorflow (gpu)") && x.why.length > 0,
    ),
  );
  assert.equal(rep.forced, false);
});

test("LST_BACKEND forces a backend", () => {
  for (const name of ["wasm", "cpu"]) {
    const r = probe({ LST_BACKEND: name }, REPORT);
    assert.equal(r.status, 0, r.err);
    const rep = JSON.parse(r.out.trim().split("\n").pop()!);
    assert.equal(rep.backend, name);
    assert.equal(rep.forced, true);
  }
});

test("an unknown forced backend fails clearly", () => {
  const r = probe({ LST_BACKEND: "tpu" }, REPORT);
  assert.equal(r.status, 3);
  assert.match(r.err, /unknown backend 'tpu'.*tensorflow, webgpu, wasm, cpu/);
});

test("a forced but unavailable backend fails clearly and names the fix", () => {
  // Make tfjs-node unloadable in the child by shadowing its resolution.
  const code = `const Module=require('module');const orig=Module._resolveFilename;Module._resolveFilename=function(r,...a){if(r==='@tensorflow/tfjs-node')throw new Error('Cannot find module @tensorflow/tfjs-node');return orig.call(this,r,...a)};${REPORT}`;
  const r = probe({ LST_BACKEND: "tensorflow" }, code);
  assert.equal(r.status, 3);
  assert.match(r.err, /backend 'tensorflow' was forced but is unavailable: .*setup-backend/);
});

test("LST_BACKEND=webgpu without a Vulkan driver fails and names the driver to install", () => {
  // an ICD list naming no file: the Vulkan loader finds no driver, so Dawn has no adapter
  const r = probe(
    { LST_BACKEND: "webgpu", VK_ICD_FILENAMES: "/nonexistent/icd.json", VK_DRIVER_FILES: "/nonexistent/icd.json" },
    REPORT,
  );
  assert.equal(r.status, 3, r.err);
  assert.match(
    r.err,
    /backend 'webgpu' was forced but is unavailable: Dawn found no WebGPU adapter.*lavapipe from bookworm-backports.*NVIDIA/,
  );
});

test("the automatic choice never takes a software WebGPU adapter (lavapipe, SwiftShader)", () => {
  const code = `require('./lib/backend-webgpu').initWebgpu({allowSoftware:false}).then(r=>{console.log(JSON.stringify({ok:r.ok,why:r.why??null,software:r.ok?r.adapter.software:null}))})`;
  const r = probe({}, code);
  assert.equal(r.status, 0, r.err);
  const out = JSON.parse(r.out.trim().split("\n").pop()!) as {
    ok: boolean;
    why: string | null;
    software: boolean | null;
  };
  // lavapipe (CI): refused as software; no driver: no adapter; a GPU: taken, and it is hardware
  if (out.ok) assert.equal(out.software, false);
  else assert.match(out.why ?? "", /only a software adapter|no WebGPU adapter|Dawn failed to start/);
});

test("mergePadDims: the worked example (a rank-5 pad as an exact rank-2 pad)", async () => {
  const { mergePadDims } = await import("../../lib/backend-webgpu");
  assert.deepEqual(
    mergePadDims(
      [2, 3, 4, 5, 6],
      [
        [0, 0],
        [0, 0],
        [1, 0],
        [0, 0],
        [0, 0],
      ],
    ),
    {
      shape: [6, 120],
      paddings: [
        [0, 0],
        [30, 0],
      ],
    },
  );
  assert.deepEqual(
    mergePadDims(
      [2, 3, 4],
      [
        [1, 1],
        [0, 0],
        [0, 2],
      ],
    ),
    {
      shape: [6, 4],
      paddings: [
        [3, 3],
        [0, 2],
      ],
    },
  );
});
