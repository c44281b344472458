/** Test helper: a training run killed at a step, as a crash would stop it (the checkpoints before it stay). */
import assert from "node:assert/strict";
import { train, type TrainOptions } from "../../lib/train/train";

/** Train `opts` into `dir` and stop it with an error when step `step` is logged; asserts that it stopped. */
export async function trainKilledAt(opts: TrainOptions, dir: string, step: number): Promise<void> {
  await assert.rejects(
    train({
      ...opts,
      dir,
      onStep: (m) => {
        if (m.step === step) throw new Error("killed");
      },
    }),
    /killed/,
  );
}
