import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type Checkpoint } from "../../lib/train/checkpoint";

function sample(step: number, hash = "abc123"): Checkpoint {
  return {
    step,
    configHash: hash,
    params: [
      { name: "embed.tokens", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, step]) },
      { name: "norm.gain", shape: [3], data: Float32Array.from([1, 1, 0.5]) },
    ],
    optimizer: {
      t: step,
      slots: [
        { name: "embed.tokens", m: new Float32Array(6).fill(0.1), v: new Float32Array(6).fill(0.2) },
        { name: "norm.gain", m: Float32Array.from([1, 2, 3]), v: Float32Array.from([4, 5, 6]) },
      ],
    },
    cursor: { step },
    meta: { note: "test" },
  };
}

const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-ckpt-"));
  made.push(d);
  return d;
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

test("save/load round trip; an empty dir has no checkpoint", () => {
  const dir = tmp();
  assert.equal(hasCheckpoint(dir), false);
  assert.equal(loadCheckpoint(dir), null);
  saveCheckpoint(dir, sample(10));
  const back = loadCheckpoint(dir, { configHash: "abc123" });
  assert.ok(back);
  assert.deepEqual(back, sample(10));
});

test("a newer save replaces the old one atomically and keeps the one before: two manifests, two bins, no temp files", () => {
  const dir = tmp();
  saveCheckpoint(dir, sample(10));
  saveCheckpoint(dir, sample(20));
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    "checkpoint-00000010.bin",
    "checkpoint-00000020.bin",
    "checkpoint.json",
    "checkpoint.prev.json",
  ]);
  assert.equal(loadCheckpoint(dir)?.step, 20);
  saveCheckpoint(dir, sample(30));
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    "checkpoint-00000020.bin",
    "checkpoint-00000030.bin",
    "checkpoint.json",
    "checkpoint.prev.json",
  ]);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "checkpoint.prev.json"), "utf8")).step, 20);
});

test("another config hash, another version and corrupt data are rejected with clear errors", () => {
  const dir = tmp();
  saveCheckpoint(dir, sample(5));
  assert.throws(() => loadCheckpoint(dir, { configHash: "zzz" }), /config hash abc123.*hashes to zzz.*new directory/);
  const file = path.join(dir, "checkpoint.json");
  const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
  fs.writeFileSync(file, JSON.stringify({ ...manifest, version: 99 }));
  assert.throws(() => loadCheckpoint(dir), /version 99.*version 1/);
  fs.writeFileSync(file, JSON.stringify(manifest));
  const bin = path.join(dir, manifest.bin);
  const bytes = fs.readFileSync(bin);
  bytes[3] ^= 0xff;
  fs.writeFileSync(bin, bytes);
  assert.throws(() => loadCheckpoint(dir), /corrupt/);
});
