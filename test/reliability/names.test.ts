/**
 * Names that become file names or shell words (RELIABILITY.md, "Bad input, class by class"): the stem of a
 * grid's figures and CSV (outputStem: only [A-Za-z0-9._-], bounded, seeds named, distinct inputs distinct), the
 * seeds parser, eval-file's output folder under LST_DATA_DIR, and a task.sh export line under a hostile value.
 */
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";
import { MAX_STEM, outputStem } from "../../lib/paths";
import { shellExport } from "../../lib/experiment/slurm";
import { CliError, seedList } from "../../lib/tooling/cli";
import { parseEvalFileArgs } from "../../scripts/eval-file";
import { tmpDir } from "./helpers";

const savedEnv = process.env.LST_DATA_DIR;
afterEach(() => {
  if (savedEnv === undefined) delete process.env.LST_DATA_DIR;
  else process.env.LST_DATA_DIR = savedEnv;
});

test("outputStem: readable for a plain grid, where and seeds; safe, bounded and distinct for anything else", () => {
  const small = { scale: "small", defaultSeeds: [1, 2, 3] };
  assert.equal(outputStem({ grid: "default", ...small }), "default-small");
  assert.equal(outputStem({ grid: "default", seeds: [3, 1, 2], ...small }), "default-small", "the scale's own seeds");
  assert.equal(outputStem({ grid: "default", seeds: [1, 2, 3, 4, 5], ...small }), "default-small-s1-2-3-4-5");
  assert.equal(
    outputStem({ grid: "phoneticPatching", where: { budget: "4x", model: "baseline|lst-aligned" }, ...small }),
    "phoneticPatching-budget-4x-model-baseline_lst-aligned-small",
  );
  assert.equal(outputStem({ prefix: "storycloze", grid: "models", scale: "smoke" }), "storycloze-models-smoke");
  const hostile = [
    { model: "baseline|/../../../../../../../../escape/y" },
    { model: "baseline|/../../../../../../../../escape/z" },
    { model: "a_b" },
    { model: "a|b" },
    { model: "..\\x" },
    { model: "x".repeat(500) },
    { model: "x".repeat(501) },
    { model: "naïve sü" },
  ];
  const stems = hostile.map((where) => outputStem({ grid: "default", where, ...small }));
  for (const s of stems) {
    assert.match(s, /^[A-Za-z0-9_][A-Za-z0-9._-]*$/, s);
    assert.ok(s.length <= MAX_STEM, s);
    assert.equal(path.basename(s), s);
  }
  assert.equal(new Set(stems).size, stems.length, `distinct wheres, distinct stems: ${stems.join(" ")}`);
  assert.match(outputStem({ grid: ".hidden", scale: "smoke" }), /^_hidden-smoke-[0-9a-f]{8}$/);
});

test("seedList refuses an empty value, empty items, non-integers and repeated seeds, naming the flag", () => {
  assert.deepEqual(seedList("seeds", "1,2,3"), [1, 2, 3]);
  assert.deepEqual(seedList("seeds", " 4, 5 "), [4, 5]);
  for (const [text, want] of [
    ["", /--seeds is empty/],
    ["1,", /got '1,' \(an empty item\)/],
    [",1", /an empty item/],
    ["1,,2", /an empty item/],
    ["1.5", /'1\.5'/],
    ["x", /'x'/],
    ["1e400", /'1e400'/],
    ["2,2", /--seeds names seed 2 twice/],
  ] as const) {
    assert.throws(
      () => seedList("seeds", text),
      (e: Error) => e instanceof CliError && want.test(e.message),
      text,
    );
  }
});

test("eval-file: --seeds and --where go through the shared parsers; the CSV goes under LST_DATA_DIR, not ./data", () => {
  const a = parseEvalFileArgs(["--file=x.csv", "--seeds=2,5", "--where=model:baseline|lst-static,mixRatio:1:2"]);
  assert.deepEqual(a.seeds, [2, 5]);
  assert.deepEqual(a.where, { model: "baseline|lst-static", mixRatio: "1:2" });
  assert.throws(() => parseEvalFileArgs(["--file=x.csv", "--seeds=1,"]), CliError);
  assert.throws(() => parseEvalFileArgs(["--file=x.csv", "--where=model"]), CliError);
  assert.throws(() => parseEvalFileArgs(["--file=x.csv", "--grid=constructor"]), /unknown value 'constructor'/);
  // the output folder is the data root's figures/ unless --out is given (read when the job runs)
  assert.equal(parseEvalFileArgs(["--file=x.csv"]).out, "");
  const root = tmpDir();
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", path.resolve(__dirname, "..", "..", "scripts", "eval-file.ts"), "--help"],
    { encoding: "utf8", env: { ...process.env, LST_DATA_DIR: root } },
  );
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--out=<dir>\s+where the CSV goes \(default: \$LST_DATA_DIR\/figures, else data\/figures\)/);
});

test("a task.sh export line keeps a hostile value a value", { skip: process.platform === "win32" }, () => {
  const dir = tmpDir();
  const marker = path.join(dir, "marker");
  const value = `it's $(touch ${marker}); \`touch ${marker}\` "x"`;
  const r = spawnSync("bash", ["-c", `${shellExport("LAB_X", value)}; printf %s "$LAB_X"`], { encoding: "utf8" });
  assert.equal(r.stdout, value);
  assert.equal(fs.existsSync(marker), false);
  assert.throws(() => shellExport(`X;touch ${marker};Y`, "1"), /is not a variable name/);
});
