/**
 * Child of webgpu-errors.test.ts (the backend is process-global): on the webgpu backend, a read after a command
 * the device rejects (a tensor over the adapter's binding limit) must throw from `checkDeviceErrors` and from a
 * training-step read, and a read after that must not. Prints one JSON line.
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkDeviceErrors, initBackend } from "../../lib/backend";
import { StepReads } from "../../lib/train/step-reads";

async function thrown(f: () => Promise<unknown>): Promise<string | null> {
  try {
    await f();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

async function main(): Promise<void> {
  const report = await initBackend();
  const bind = report.adapter?.limits.maxStorageBufferBindingSize ?? 0;
  const small = () => thrown(async () => (await tf.add(tf.ones([4]), 1).data(), checkDeviceErrors("a small read")));
  const before = await small();
  // one float over the binding limit; a GPU with a binding limit over 512 MiB skips the rest
  const n = bind > 0 && bind <= 2 ** 29 ? bind / 4 + 1 : 0;
  let direct: string | null = null;
  let directValues: number[] = [];
  let steps: string | null = null;
  if (n > 0) {
    direct = await thrown(async () => {
      const big = tf.ones([n]);
      const out = tf.add(big, big);
      directValues = Array.from(await tf.slice(out, [0], [2]).data());
      tf.dispose([big, out]);
      checkDeviceErrors("a read over the binding limit");
    });
    const reads = new StepReads<number>();
    const big = tf.ones([n]);
    reads.push({ info: 0, nll: tf.reshape(tf.add(big, big), [1, n]), value: tf.scalar(1), normSq: tf.scalar(1) });
    big.dispose();
    steps = await thrown(() => reads.drain());
  }
  const after = await small();
  console.log(JSON.stringify({ backend: report.backend, bind, n, before, direct, directValues, steps, after }));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
