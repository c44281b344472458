import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { encodeAttr, encodeGraph, encodeNode, encodeSavedModel } from "../../lib/train/compiled-step/protobuf";
import { nodeBackend } from "../../lib/train/compiled-step/native";
import { captureStep, Mismatch, traceStep, type StepFn } from "../../lib/train/compiled-step/trace";
import { StepGraph } from "../../lib/train/compiled-step/graph";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").replace(/(..)/g, "$1 ").trim();

test("protobuf worked example: a NodeDef's bytes, by hand", () => {
  // protobuf.ts's header: name "a", op "Add", inputs "x" and "y:1"
  assert.equal(
    hex(encodeNode({ name: "a", op: "Add", input: ["x", "y:1"], attr: {} })),
    "0a 01 61 12 03 41 64 64 1a 01 78 1a 03 79 3a 31",
  );
  // + attr T = DT_FLOAT: map entry (field 5) { key "T", value AttrValue { type (field 6) = 1 } }
  assert.equal(
    hex(encodeNode({ name: "a", op: "Add", input: [], attr: { T: { type: 1 } } })),
    "0a 01 61 12 03 41 64 64 2a 07 0a 01 54 12 02 30 01",
  );
  // a negative int is a 10-byte two's complement varint; a list of ints is packed (ListValue field 3)
  assert.equal(hex(encodeAttr({ i: -1 })), "18 ff ff ff ff ff ff ff ff ff 01");
  assert.equal(hex(encodeAttr({ list: { i: [1, 300] } })), "0a 05 1a 03 01 ac 02");
  assert.equal(hex(encodeAttr({ f: 1 })), "25 00 00 80 3f");
});

test("a hand-encoded 2-node graph (x + y) loads through the binding and runs", async () => {
  await initBackend({ backend: "tensorflow" });
  const be = nodeBackend();
  assert.ok(be, "tfjs-node's backend");
  const b = be.binding;
  const ph = (name: string) => ({
    name,
    op: "Placeholder",
    input: [],
    attr: { dtype: { type: b.TF_FLOAT }, shape: { shape: [2] } },
  });
  const graph = encodeGraph(
    [ph("x"), ph("y"), { name: "z", op: "AddV2", input: ["x", "y"], attr: { T: { type: b.TF_FLOAT } } }],
    2474,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lst-pb-"));
  try {
    fs.writeFileSync(path.join(dir, "saved_model.pb"), encodeSavedModel(graph, ["serve"]));
    const id = b.loadSavedModel(dir, "serve");
    const x = tf.tensor1d([1, 2]);
    const y = tf.tensor1d([10, 20]);
    const [meta] = b.runSavedModel(id, be.getInputTensorIds([x, y]), "x,y", "z");
    const z = be.createOutputTensor(meta);
    assert.deepEqual(Array.from(z.dataSync()), [11, 22]);
    tf.dispose([x, y, z]);
    b.deleteSavedModel(id);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The trace worked example of trace.ts: w + 2, with w as state 0. */
function addTwo(w: tf.Tensor, two = 2): StepFn<tf.Tensor> {
  return {
    run: () => tf.tidy(() => tf.add(w, tf.scalar(two))),
    outputs: (r) => [r],
    dispose: (r) => r.dispose(),
    abort: () => {},
  };
}

test("trace worked example: w + 2 is one Add of state 0 and made tensor 0; a capture replays it", async () => {
  await initBackend({ backend: "tensorflow" });
  const be = nodeBackend()!;
  const w = tf.variable(tf.tensor1d([1, 2, 3]));
  const { result, trace } = traceStep(be, [w], addTwo(w));
  assert.deepEqual(Array.from(result.dataSync()), [3, 4, 5]);
  result.dispose();
  assert.deepEqual(
    trace.ops.map((o) => ({ op: o.op, inputs: o.inputs })),
    [
      {
        op: "Add",
        inputs: [
          { k: "state", slot: 0 },
          { k: "made", at: 0 },
        ],
      },
    ],
  );
  assert.deepEqual(
    trace.made.map((m) => [m.shape, m.dtype, Array.from(m.values)]),
    [[[], be.binding.TF_FLOAT, [2]]],
  );
  assert.deepEqual(trace.outputs, [{ k: "op", op: 0, out: 0 }]);

  // a capture of w + 5 runs nothing and records the 5; the graph with the made tensor fed computes w + 5
  const before = tf.memory().numTensors;
  const cap = captureStep(be, trace, [w], addTwo(w, 5));
  assert.deepEqual(Array.from(cap.made[0].values), [5]);
  assert.equal(tf.memory().numTensors, before);
  const g = new StepGraph(be, trace, new Set([0]));
  const [out] = g.run(be.getInputTensorIds([w]), cap.madeIds).map((m) => be.createOutputTensor(m));
  cap.release();
  assert.deepEqual(Array.from(out.dataSync()), [6, 7, 8]);
  out.dispose();
  g.dispose();

  // another op, or another shape, is a mismatch (and leaves no tensor behind)
  assert.throws(
    () => captureStep(be, trace, [w], { ...addTwo(w), run: () => tf.tidy(() => tf.mul(w, tf.scalar(2))) }),
    (e) => e instanceof Mismatch && /Mul where the trace has Add\b/.test(e.message),
  );
  assert.throws(
    () => captureStep(be, trace, [w], { ...addTwo(w), run: () => tf.tidy(() => tf.add(w, tf.tensor1d([1, 1, 1]))) }),
    Mismatch,
  );
  assert.equal(tf.memory().numTensors, before);
  w.dispose();
});
