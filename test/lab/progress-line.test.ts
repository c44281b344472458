import { test } from "node:test";
import assert from "node:assert/strict";
import { progress, progressText } from "../../lib/viz/progress-line";

test("progress text: label, count, percent, seconds", () => {
  assert.equal(progressText("encode", 40, 400, 1234), "encode 40/400 (10%) 1.2 s");
  assert.equal(progressText("empty", 0, 0, 0), "empty 0/0 0.0 s");
});

test("in place: one line redrawn with \\r at most every 200 ms, then a final line with a newline", () => {
  let t = 0;
  const out: string[] = [];
  const p = progress("x", 10, { write: (s) => out.push(s), inPlace: true, now: () => t });
  // ticks at t = 0, 100, ..., 900 ms: only 200, 400, 600, 800 are shown (>= 200 ms since the last)
  for (let i = 0; i < 10; i++, t += 100) p.tick();
  p.done();
  p.tick();
  assert.deepEqual(out, [
    "\rx 3/10 (30%) 0.2 s",
    "\rx 5/10 (50%) 0.4 s",
    "\rx 7/10 (70%) 0.6 s",
    "\rx 9/10 (90%) 0.8 s",
    "\rx 10/10 (100%) 1.0 s\n",
  ]);
});

test("as a log: new lines at most every 2 s, final line always", () => {
  let t = 0;
  const out: string[] = [];
  const p = progress("y", 4, { write: (s) => out.push(s), inPlace: false, now: () => t });
  t = 1000;
  p.tick(2);
  t = 2500;
  p.tick();
  p.done();
  p.done();
  assert.deepEqual(out, ["y 3/4 (75%) 2.5 s\n", "y 3/4 (75%) 2.5 s\n"]);
  assert.throws(() => progress("z", -1), /total must be a count >= 0, got -1/);
});
