import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { readNotebook } from "../../lib/tooling/notebook-runner";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures", "notebooks");

function runNotebooks(names: string[], out: string) {
  return spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "scripts", "notebooks.ts"), "--dir", FIXTURES, "--out", out, ...names],
    { cwd: ROOT, encoding: "utf8" },
  );
}

test("the runner executes a notebook through tslab and captures stream and display outputs", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "lst-nb-"));
  try {
    const r = runNotebooks(["good"], out);
    assert.equal(r.status, 0, r.stderr);
    const nb = readNotebook(path.join(out, "good.ipynb"));
    const outputs = nb.cells.filter((c) => c.cell_type === "code").map((c) => c.outputs ?? []);
    assert.deepEqual(outputs[0], [{ output_type: "stream", name: "stdout", text: "answer 42\n" }]);
    assert.match(JSON.stringify(outputs[1]), /<pad>,<bos>,<eos>,<t>,<s>/);
    assert.deepEqual(outputs[2], [{ output_type: "display_data", data: { "text/html": "<b>hi</b>" }, metadata: {} }]);
    assert.deepEqual(
      nb.cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count),
      [1, 2, 3],
    );
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test("a failing cell fails the run, naming the notebook, the cell number and the error", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "lst-nb-"));
  try {
    const r = runNotebooks(["bad"], out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.ipynb cell 3: Error: boom at cell 3/);
    // the executed copy holds the outputs up to the failing cell, and nothing after it ran
    const nb = readNotebook(path.join(out, "bad.ipynb"));
    assert.equal(nb.cells[2].outputs?.at(-1)?.output_type, "error");
    assert.equal(nb.cells[3].outputs?.length ?? 0, 0);
    assert.match(JSON.stringify(nb.cells[1].outputs), /before/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test("a cell that does not compile fails the run with tslab's diagnostic", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "lst-nb-"));
  try {
    const r = runNotebooks(["typo"], out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /typo\.ipynb cell 2: 1:7 - Type 'number' is not assignable to type 'string'\./);
    assert.match(JSON.stringify(readNotebook(path.join(out, "typo.ipynb")).cells[0].outputs), /n = 1/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test("an unknown notebook name is an error listing the ones there are", () => {
  const r = runNotebooks(["nope"], os.tmpdir());
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /no notebook named nope .*there are: bad\.ipynb, good\.ipynb, typo\.ipynb/);
});
