import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { describeCpu, parseCpuInfo } from "../../lib/tooling/cpu-info";
import { aggregateKernels, profileTable } from "../../lib/tooling/kernel-profile";
import { initBackend } from "../../lib";
import { profileStep } from "../../bench/train-bench/step-profile";

const CPUINFO = `processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse sse2 avx avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse sse2 avx avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8
`;

test("parseCpuInfo reads the model name, the processor count and the ISA flags", () => {
  const c = parseCpuInfo(CPUINFO);
  assert.equal(c.model, "Intel(R) Xeon(R) Platinum 8480+");
  assert.equal(c.logicalCpus, 2);
  assert.deepEqual(c.flags, { avx2: true, avx512f: true, avx512_bf16: true, amx: true });
  assert.equal(c.cpuid, "family 6 model 143");
  assert.equal(
    describeCpu(c),
    "Intel(R) Xeon(R) Platinum 8480+ (family 6 model 143), 2 logical CPUs, avx2 avx512f avx512_bf16 amx",
  );
  // a Zen 3 without AVX-512: flags absent are false, and a prefix (avx512) is not the flag
  const zen = parseCpuInfo("processor : 0\nmodel name : AMD EPYC 7B13\nflags : fpu avx avx2 avx512\n");
  assert.deepEqual(zen.flags, { avx2: true, avx512f: false, avx512_bf16: false, amx: false });
  assert.match(describeCpu(zen), /avx2 no avx512f no avx512_bf16 no amx$/);
  // no flags line (e.g. an ARM cpuinfo): unknown, not false
  const arm = parseCpuInfo("processor : 0\nBogoMIPS : 50.00\nFeatures : fp asimd\n");
  assert.equal(arm.flags, null);
  assert.equal(arm.model, "unknown");
});

test("aggregateKernels sums by kernel, module and phase, most time first, shares adding to 1", () => {
  const s = aggregateKernels([
    { name: "MatMul", ms: 3, scope: "global", phase: "forward" },
    { name: "Add", ms: 1, scope: "global", phase: "backward" },
    { name: "MatMul", ms: 1, scope: "decoder", phase: "backward" },
    { name: "Mul", ms: 0.5 },
  ]);
  assert.equal(s.totalMs, 5.5);
  assert.equal(s.kernels, 4);
  assert.deepEqual(
    s.byKernel.map((r) => [r.name, r.count, r.ms]),
    [
      ["MatMul", 2, 4],
      ["Add", 1, 1],
      ["Mul", 1, 0.5],
    ],
  );
  assert.deepEqual(
    s.byScope.map((r) => [r.name, r.count, r.ms]),
    [
      ["global", 2, 4],
      ["decoder", 1, 1],
      ["other", 1, 0.5],
    ],
  );
  assert.deepEqual(
    s.byPhase.map((r) => r.name),
    ["forward", "backward", "other"],
  );
  for (const rows of [s.byKernel, s.byScope, s.byPhase])
    assert.ok(Math.abs(rows.reduce((a, r) => a + r.share, 0) - 1) < 1e-12);
  assert.throws(() => aggregateKernels([{ name: "X", ms: NaN }]), /kernel 'X' has time NaN ms/);
  assert.equal(s.dispatches, 4);
  const shaped = aggregateKernels([
    { name: "Reshape", ms: 0 },
    { name: "Identity", ms: 0 },
    { name: "forward (custom-gradient op, own time)", ms: 0 },
    { name: "LstRmsNorm", ms: 1 },
  ]);
  assert.deepEqual([shaped.kernels, shaped.dispatches], [4, 1]); // only the norm launches device work
  const table = profileTable("kernel", s.byKernel, 2).split("\n");
  assert.equal(table.length, 5); // header, rule, 2 rows, the rest
  assert.equal(table[2], "| MatMul | 2 | 4.00 | 72.7% |");
  assert.equal(table[4], "| (1 more) | 1 | 0.50 | 9.1% |");
});

test("profileStep labels forward and gradient kernels by module, the update as optimizer, and unwraps", async () => {
  await initBackend({ backend: "cpu" });
  const w = tf.variable(tf.ones([4, 4]), true, "w");
  const module = {
    apply(x: tf.Tensor2D): tf.Tensor2D {
      return tf.relu(tf.matMul(x, w)) as tf.Tensor2D;
    },
  };
  const original = module.apply;
  const x = tf.ones([2, 4]) as tf.Tensor2D;
  const records = await profileStep(
    () => tf.sum(tf.square(module.apply(x))) as tf.Scalar,
    [w],
    async ({ value, grads }) => {
      w.assign(tf.sub(w, tf.mul(grads.w, 0.1)));
      tf.dispose(grads);
      value.dispose();
    },
    [{ label: "mlp", obj: module, method: "apply" }],
  );
  assert.equal(module.apply, original, "the wrapper is removed");
  const forward = records.filter((r) => r.phase === "forward");
  const backward = records.filter((r) => r.phase === "backward");
  const update = records.filter((r) => r.phase === "optimizer");
  assert.deepEqual(
    forward.filter((r) => r.scope === "mlp" && r.name !== "Identity").map((r) => r.name), // cpu: reshapes in matMul
    ["BatchMatMul", "Relu"],
  );
  assert.ok(
    forward.some((r) => r.scope === undefined && r.name === "Square"),
    "the loss is outside the module",
  );
  assert.ok(
    backward.some((r) => r.scope === "mlp" && r.name === "BatchMatMul"),
    `the matmul's gradient is the module's: ${JSON.stringify(backward)}`,
  );
  assert.ok(update.length > 0 && update.every((r) => r.scope === "optimizer (clip + AdamW)"));
  assert.ok(records.every((r) => Number.isFinite(r.ms) && r.ms >= 0));
  w.dispose();
  x.dispose();
});
