import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveConfig, parseCliOverrides, configHash } from "../../lib/config";
import { Rng, hashSeed } from "../../lib/rng";

const DEFAULTS = { lr: 4e-4, steps: 100, model: { dModel: 64, kind: "baseline" }, tags: ["a"] };

test("overrides merge recursively and leave defaults untouched", () => {
  const c = resolveConfig(DEFAULTS, { model: { dModel: 128 } });
  assert.equal(c.model.dModel, 128);
  assert.equal(c.model.kind, "baseline");
  assert.equal(DEFAULTS.model.dModel, 64);
});

test("an unknown key is rejected with its path and the known keys", () => {
  assert.throws(
    () => resolveConfig(DEFAULTS, { model: { dModle: 3 } } as never),
    /unknown config key 'config\.model\.dModle'.*dModel, kind/,
  );
});

test("a value of the wrong type is rejected", () => {
  assert.throws(() => resolveConfig(DEFAULTS, { steps: "many" } as never), /config 'config\.steps' must be a number/);
});

test("CLI overrides parse into nested objects with coerced values", () => {
  assert.deepEqual(parseCliOverrides(["--model.dModel=128", "--lr=0.001", "--resume", "--name=x"]), {
    model: { dModel: 128 },
    lr: 0.001,
    resume: true,
    name: "x",
  });
  assert.throws(() => parseCliOverrides(["model=3"]), /expected --key=value/);
});

test("config hashes ignore key order and change with values", () => {
  assert.equal(configHash({ a: 1, b: { c: 2, d: 3 } }), configHash({ b: { d: 3, c: 2 }, a: 1 }));
  assert.notEqual(configHash({ a: 1 }), configHash({ a: 2 }));
});

test("Rng is deterministic, and its state can be restored", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = [a.next(), a.next(), a.int(10)];
  assert.deepEqual(xs, [b.next(), b.next(), b.int(10)]);
  const s = a.state();
  const next = a.next();
  a.setState(s);
  assert.equal(a.next(), next);
  assert.notEqual(hashSeed(1, "train"), hashSeed(1, "test"));
});
