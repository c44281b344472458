import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeSafetensors, encodeSafetensors, type SafeTensor } from "../../lib/train/safetensors";
import { crc32c, eventProto, tfRecord } from "../../lib/train/tfevents";
import { metricsCsv } from "../../lib/train/metrics-export";

test("safetensors: the worked example of safetensors.ts, byte for byte", () => {
  const buf = encodeSafetensors(
    new Map([["w", { dtype: "F32", shape: [2], data: Float32Array.from([1, 2]) } as SafeTensor]]),
  );
  assert.equal(buf.length, 72);
  assert.equal(buf.readBigUInt64LE(0), 56n);
  assert.equal(buf.subarray(8, 64).toString("utf8"), '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  ');
  assert.deepEqual([...buf.subarray(64)], [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40]);
});

test("safetensors: tensors, dtypes and metadata round-trip; the data section starts 8-aligned", () => {
  const tensors = new Map<string, SafeTensor>([
    ["a.weight", { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -0]) }],
    ["b", { dtype: "I32", shape: [3], data: Int32Array.from([-1, 0, 2 ** 31 - 1]) }],
    ["c", { dtype: "F64", shape: [], data: Float64Array.from([Math.PI]) }],
    ["d", { dtype: "U8", shape: [1, 1], data: Uint8Array.from([255]) }],
  ]);
  const buf = encodeSafetensors(tensors, { format: "x", config: JSON.stringify({ d: 1 }) });
  assert.equal((8 + Number(buf.readBigUInt64LE(0))) % 8, 0);
  const back = decodeSafetensors(buf);
  assert.deepEqual(back.metadata, { format: "x", config: '{"d":1}' });
  assert.deepEqual([...back.tensors.keys()], [...tensors.keys()]);
  for (const [k, t] of tensors) assert.deepEqual(back.tensors.get(k), t);
});

test("safetensors: bad input is refused with the reason", () => {
  assert.throws(
    () => encodeSafetensors(new Map([["x", { dtype: "F32", shape: [3], data: new Float32Array(2) } as SafeTensor]])),
    /shape \[3\] \(3 values\) but 2 values/,
  );
  assert.throws(
    () => encodeSafetensors(new Map([["x", { dtype: "I32", shape: [1], data: new Float32Array(1) } as SafeTensor]])),
    /declared I32 but holds a Float32Array/,
  );
  assert.throws(() => encodeSafetensors(new Map(), { n: 1 as unknown as string }), /must be a string/);
  const good = encodeSafetensors(
    new Map([["w", { dtype: "F32", shape: [2], data: Float32Array.from([1, 2]) } as SafeTensor]]),
  );
  assert.throws(
    () => decodeSafetensors(good.subarray(0, 70)),
    /data_offsets \[0, 8\].*within 6 data bytes: the file is corrupt/,
  );
  assert.throws(() => decodeSafetensors(Buffer.concat([good, Buffer.alloc(4)])), /cover 8 of 12 data bytes/);
  assert.throws(() => decodeSafetensors(Buffer.from([1, 2, 3])), /shorter than the 8-byte header/);
});

test("tfevents: crc32c check value and the TFRecord frame", () => {
  assert.equal(crc32c(Buffer.from("123456789")), 0xe3069283);
  const rec = tfRecord(eventProto({ wallTime: 1, fileVersion: "brain.Event:2" }));
  const n = Number(rec.readBigUInt64LE(0));
  assert.equal(rec.length, 8 + 4 + n + 4);
  assert.equal(
    rec
      .subarray(12, 12 + n)
      .toString("latin1")
      .slice(9 + 2),
    "brain.Event:2",
  );
});

test("metricsCsv flattens nested fields and leaves non-finite values empty", () => {
  const csv = metricsCsv([
    { step: 0, loss: 2.5, lossSpeech: null, rawTokens: { speech: 0, text: 10 }, ms: 1.25 },
    { step: 1, loss: 2.25, lossSpeech: 3, rawTokens: { speech: 4, text: 6 }, ms: 1, eval: { hs_tt: 0.5 } },
  ]);
  assert.equal(
    csv,
    "step,loss,lossSpeech,rawTokens.speech,rawTokens.text,ms,eval.hs_tt\n0,2.5,,0,10,1.25,\n1,2.25,3,4,6,1,0.5\n",
  );
});
