/**
 * Each fused webgpu kernel (lib/webgpu/) timed against the composed tfjs ops it replaces, forward + backward,
 * at the shapes one training step gives it: for every op, `--reps` calls with the fused kernels on, then the
 * same with LST_WEBGPU_FUSED=0 (the composed ops), one host read at the end of each series (the queue runs in
 * order, so that read waits for every call). Prints ms per call, the speedup, and the dispatches of one call in
 * each form (`disp`: kernels that launch device work, fused then composed). On lavapipe (a CPU) the times only show that the kernels run; on a GPU they are the figures.
 *
 *   --size=tiny   B 2 x T 64, d 64, 4 heads, vocab 300 (lavapipe: seconds)
 *   --size=d512   B 16 x T 1024, d 512, 8 heads, vocab 2048 (the gpuSmall preset at the bench's d512 shapes)
 *
 * Run: LST_BACKEND=webgpu npx tsx bench/webgpu-kernels.ts [--size=tiny] [--reps=10]   (the GPU bundle's
 * `run.sh kernels`, printed by check.sh)
 */
import * as tf from "@tensorflow/tfjs-core";
import { AdamW, describeBackend, initBackend } from "../lib";
import { aggregateKernels, cli, fusedOps } from "../lib/internal";

const SIZES = {
  tiny: { B: 2, T: 64, d: 64, H: 4, V: 300 },
  d512: { B: 16, T: 1024, d: 512, H: 8, V: 2048 },
} as const;

const CLI = {
  command: "LST_BACKEND=webgpu npx tsx bench/webgpu-kernels.ts",
  summary: "Each fused webgpu kernel against the composed tfjs ops it replaces (forward + backward, ms per call).",
  flags: {
    size: { type: "string", default: "tiny", help: `shapes: ${Object.keys(SIZES).join(", ")}` },
    reps: { type: "number", default: 10, help: "timed calls per op and form (after 2 warm-up calls)" },
  },
} as const;

/** One op: `call` runs a forward and backward and returns a scalar to read. */
interface Op {
  name: string;
  kernels: string[];
  shape: string;
  call: () => tf.Tensor;
}

const seededTensor = (shape: number[], scale = 1, seed = 1): tf.Tensor =>
  tf.tidy(() => tf.mul(tf.randomUniform(shape, -1, 1, "float32", seed), scale));

/** sum(f(x) * w) and its gradient with respect to every input: one forward + backward. */
function fwdBwd(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], w: tf.Tensor): tf.Tensor {
  const { value, grads } = tf.valueAndGrads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), w)))(xs);
  return tf.addN([value, ...grads.map((g) => tf.sum(g))]);
}

function ops(size: (typeof SIZES)[keyof typeof SIZES]): { ops: Op[]; dispose: () => void } {
  const { B, T, d, H, V } = size;
  const N = B * T;
  const dh = d / H;
  const ffn = Math.ceil((8 * d) / 3 / 32) * 32;
  const o = fusedOps();
  const keep: tf.Tensor[] = [];
  const t = (shape: number[], scale = 1, seed = 1) => {
    const x = seededTensor(shape, scale, seed);
    keep.push(x);
    return x;
  };
  const x = t([N, d]);
  const ab = t([N, 2 * ffn], 2);
  const wN = t([N, d], 1, 2);
  const wF = t([N, ffn], 1, 3);
  const q4 = t([B, H, T, dh]);
  const k4 = t([B, H, T, dh], 1, 4);
  const v4 = t([B, H, T, dh], 1, 5);
  const w4 = t([B, H, T, dh], 1, 6);
  const logits = t([N, V], 4);
  const wRows = t([N], 1, 11);
  const targets = Int32Array.from({ length: N }, (_, i) => (i * 7919) % V);
  const att = o.selfAttention(B, T, d, H);
  const wAtt = t([B, T, d], 1, 7);
  const xAtt = t([B, T, d], 1, 8);
  const mm = { a: t([N, d]), b: t([d, 3 * d], 0.05, 9), w: t([N, 3 * d], 1, 10) };
  const list: Op[] = [
    { name: "rmsNorm", kernels: ["LstRmsNorm"], shape: `[${N}, ${d}]`, call: () => fwdBwd(o.rmsNormalize, [x], wN) },
    { name: "swiglu", kernels: ["LstSwiGlu"], shape: `[${N}, ${2 * ffn}]`, call: () => fwdBwd(o.swiglu, [ab], wF) },
    {
      name: "rope",
      kernels: ["LstRope"],
      shape: `[${B}, ${H}, ${T}, ${dh}]`,
      call: () => fwdBwd((a) => o.applyRope(a as tf.Tensor4D, att.rope.qCos, att.rope.qSin), [q4], w4),
    },
    {
      name: "attention core (causal)",
      kernels: ["LstAttention"],
      shape: `q/k/v [${B}, ${H}, ${T}, ${dh}]`,
      call: () => fwdBwd((q, k, v) => o.attendCausal(q, k, v, att.mask), [q4, k4, v4], wAtt),
    },
    {
      name: "self-attention (qkv, rope, core, out)",
      kernels: ["LstAttention", "LstRope"],
      shape: `x [${B}, ${T}, ${d}]`,
      call: () => fwdBwd((a) => att.apply(a), [xAtt], wAtt),
    },
    {
      name: "cross-entropy",
      kernels: ["LstCrossEntropy"],
      shape: `[${N}, ${V}]`,
      call: () => fwdBwd((l) => o.crossEntropyNll(l as tf.Tensor2D, targets), [logits], wRows),
    },
    {
      name: "matmul",
      kernels: ["BatchMatMul"],
      shape: `[${N}, ${d}] x [${d}, ${3 * d}]`,
      call: () => fwdBwd((a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), [mm.a, mm.b], mm.w),
    },
  ];
  return { ops: list, dispose: () => (tf.dispose(keep), att.dispose()) };
}

/** Kernels of a profile that launch device work (lib/tooling/kernel-profile.ts). */
const dispatches = (info: { kernels: { name: string }[] }): number =>
  aggregateKernels(info.kernels.map((k) => ({ name: k.name, ms: 0 }))).dispatches;

/** ms per call of `op` over `reps` calls (2 warm-up), and the kernels one call dispatches. */
async function timeOp(op: Op, reps: number): Promise<{ ms: number; kernels: number; names: string[] }> {
  for (let i = 0; i < 2; i++) await tf.tidy(op.call).data();
  const info = await tf.profile(async () => {
    const r = tf.tidy(op.call);
    await r.data();
    r.dispose();
  });
  const t0 = performance.now();
  let last: tf.Tensor | null = null;
  for (let i = 0; i < reps; i++) {
    last?.dispose();
    last = tf.tidy(op.call);
  }
  await last!.data();
  const ms = (performance.now() - t0) / reps;
  last!.dispose();
  return { ms, kernels: dispatches(info), names: [...new Set(info.kernelNames)] };
}

/** One AdamW step over `n` values in 64 parameters, fused and composed. */
async function timeAdamW(n: number, reps: number): Promise<string> {
  const params = Array.from({ length: 64 }, (_, i) =>
    tf.variable(seededTensor(i % 2 ? [n / 64 / 8, 8] : [n / 64], 0.1, i), true, `bench.adamw.${i}`),
  );
  const grads = Object.fromEntries(params.map((p, i) => [p.name, seededTensor(p.shape, 0.01, 100 + i)]));
  const row = async (): Promise<{ ms: number; kernels: number }> => {
    const opt = new AdamW(params);
    const step = () => tf.tidy(() => opt.applyOnDevice(grads, 1e-3, tf.scalar(1)));
    step();
    const info = await tf.profile(() => step());
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) step();
    await params[0].data();
    const ms = (performance.now() - t0) / reps;
    opt.dispose();
    return { ms, kernels: dispatches(info) };
  };
  process.env.LST_WEBGPU_FUSED = "1";
  const f = await row();
  process.env.LST_WEBGPU_FUSED = "0";
  const c = await row();
  tf.dispose([...params, ...Object.values(grads)]);
  return line(`AdamW step (64 params)`, `${n} values`, f, c);
}

function line(name: string, shape: string, f: { ms: number; kernels: number }, c: { ms: number; kernels: number }) {
  return (
    `${name.padEnd(38)} ${shape.padEnd(30)} ${f.ms.toFixed(2).padStart(9)} ${c.ms.toFixed(2).padStart(9)} ` +
    `${(c.ms / f.ms).toFixed(2).padStart(6)}x ${String(f.kernels).padStart(5)} ${String(c.kernels).padStart(5)}`
  );
}

async function main(): Promise<void> {
  const { values: args } = cli(CLI);
  const size = SIZES[args.size as keyof typeof SIZES];
  if (!size) throw new Error(`--size=${args.size} is not one of ${Object.keys(SIZES).join(", ")}`);
  const report = await initBackend();
  console.log(`backend: ${describeBackend(report)}`);
  if (report.backend !== "webgpu")
    console.log("(not webgpu: no fused kernels are registered here, both columns run the composed ops)");
  console.log(
    `${"op (forward + backward)".padEnd(38)} ${"shape".padEnd(30)} ${"fused ms".padStart(9)} ${"tfjs ms".padStart(9)} ${"speedup".padStart(7)} ${"disp".padStart(5)} ${"disp".padStart(5)}`,
  );
  const { ops: list, dispose } = ops(size);
  for (const op of list) {
    process.env.LST_WEBGPU_FUSED = "1";
    const f = await timeOp(op, args.reps);
    const missing = op.kernels.filter((k) => !f.names.includes(k));
    process.env.LST_WEBGPU_FUSED = "0";
    const c = await timeOp(op, args.reps);
    console.log(line(op.name, op.shape, f, c) + (missing.length ? `  (not fused here: ${missing.join(", ")})` : ""));
  }
  dispose();
  console.log(await timeAdamW(size.B * size.T * size.d, args.reps));
  delete process.env.LST_WEBGPU_FUSED;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
