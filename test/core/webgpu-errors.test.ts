/**
 * WebGPU rejects a command it cannot run (here: a tensor over the adapter's `maxStorageBufferBindingSize`,
 * 128 MiB on lavapipe) without an exception: Dawn prints a validation error and the output reads back as zeros.
 * lib/backend-webgpu.ts keeps the device's first `uncapturederror`, and `checkDeviceErrors` (called after every
 * training-step and evaluation read) throws it with the limit and the fix. The child (webgpu-errors-child.ts)
 * runs on webgpu in its own process. Without an adapter it fails like webgpu-parity.test.ts (LST_SKIP_WEBGPU=1
 * skips it). About 10 s on lavapipe.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

test(
  "a rejected webgpu command fails the next read with the binding limit and the fix",
  { skip: process.env.LST_SKIP_WEBGPU === "1" },
  () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "webgpu-errors-child.ts")], {
      cwd: ROOT,
      env: { ...process.env, LST_BACKEND: "webgpu" },
      encoding: "utf8",
      timeout: 180_000,
    });
    const line = r.stdout.trim().split("\n").pop() ?? "";
    assert.ok(r.status === 0 && line.startsWith("{"), `child failed (status ${r.status}):\n${r.stderr.slice(-2000)}`);
    const out = JSON.parse(line) as {
      backend: string;
      bind: number;
      n: number;
      before: string | null;
      direct: string | null;
      directValues: number[];
      steps: string | null;
      after: string | null;
    };
    assert.equal(out.backend, "webgpu");
    assert.equal(out.before, null, "a valid read must not throw");
    assert.equal(out.after, null, "the error is cleared once reported");
    if (out.n === 0) return; // a GPU whose binding limit is over 512 MiB: nothing small enough to overflow it
    // the silent failure this guards against: 1 + 1 read back as 0
    assert.deepEqual(out.directValues, [0, 0]);
    const mib = Math.round((out.bind / 2 ** 20) * 10) / 10;
    assert.match(out.direct ?? "", /webgpu: the GPU rejected a command before a read over the binding limit/);
    assert.match(
      out.direct ?? "",
      new RegExp(`over this adapter's ${out.bind} bytes \\(${mib} MiB\\) per binding: lower the batch size`),
    );
    assert.match(out.steps ?? "", /before reading 1 training step: .*MiB\) per binding: lower the batch size/);
  },
);
