/**
 * Bad input from the command line and from files, end to end (RELIABILITY.md, "Bad input, class by class"):
 * eval-file's --seeds and --where alternatives, a --where alternative that matches nothing (or smuggles a path),
 * Slurm env names, prototype keys (`__proto__`, `constructor`) as config keys, grids, scales and presets, export of
 * a run store's run dir and a truncated bpe.json, seeds lists, benchmark files (repeated ids, mixed ending counts,
 * a byte-order mark, Latin-1), paths of the wrong type, an empty LST_DATA_DIR, a non-finite --mix and an LST
 * global length above its raw length. Each answer names the bad value and the fix, and nothing is written first.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import fs from "fs";
import path from "path";
import { initBackend } from "../../lib/backend";
import { parseCliOverrides, resolveConfig } from "../../lib/config";
import { resolveDataConfig } from "../../lib/data/config";
import { loadBenchmarkFile } from "../../lib/data/formats";
import { resolveExperiment, SCALES } from "../../lib/experiment/experiment";
import { resolveExecutor } from "../../lib/experiment/executor";
import { gridEntries, selectGrid } from "../../lib/experiment/grids";
import { lockNow } from "../../lib/experiment/lock";
import { RunStore } from "../../lib/experiment/runs";
import { DEFAULT_MODEL_CONFIG } from "../../lib/model/config";
import { BpeTokenizer } from "../../lib/tokenizers/bpe";
import { parseCli } from "../../lib/tooling/cli";
import { resolveTrainConfig } from "../../lib/train/config";
import { syntheticSource } from "../../lib/train/synthetic";
import { train } from "../../lib/train/train";
import { TINY_MODEL, TINY_TRAIN, tinyCliArgs, tmpDir, trainCli } from "./helpers";

const REPO = path.resolve(__dirname, "..", "..");
const smoke = SCALES.smoke;

/** Run a script of the lab to its end: exit code, stdout, stderr. */
function script(file: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(REPO, file), ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** No stack trace: a user error is its message alone. */
const noStack = (text: string) => !/^\s+at .+:\d+:\d+\)?$/m.test(text);

const CLOZE_HEADER =
  "InputStoryid,InputSentence1,InputSentence2,InputSentence3,InputSentence4,RandomFifthSentenceQuiz1,RandomFifthSentenceQuiz2,AnswerRightEnding";
const clozeRow = (id: string) => `${id},a cat sat.,it ran.,it hid.,it came back.,it was happy.,it was a car.,1`;
const hsLine = (ind: number, endings: string[]) => JSON.stringify({ ind, ctx: "a man is cooking", endings, label: 0 });

/** A finished run of the store with one result cell, without training (what eval-file selects from). */
async function finishedRun(runsRoot: string, model: string, seed: number): Promise<void> {
  const cfg = resolveExperiment(selectGrid("default", smoke, [seed], { model })[0].spec, smoke);
  const cells = [{ benchmark: "sc", direction: "S2S", n: 8, correct: 4, accuracy: 0.5, chance: 0.5 }];
  await new RunStore(runsRoot).ensure(cfg, `${cfg.name}/${seed}`, async (dir) => {
    fs.writeFileSync(path.join(dir, "metrics.jsonl"), `${JSON.stringify({ step: 0, loss: 1, ms: 5 })}\n`);
    return { eval: { cells } };
  });
}

before(async () => {
  await initBackend();
});

test("eval-file scores the runs of --seeds (not only the scale's seeds) and of each --where alternative", async () => {
  const root = tmpDir();
  for (const seed of [1, 2])
    for (const model of ["baseline", "lst-static"]) await finishedRun(path.join(root, "runs"), model, seed);
  const csv = path.join(root, "cloze.csv");
  fs.writeFileSync(csv, `${CLOZE_HEADER}\n${clozeRow("s1")}\n`);
  // smoke's own seeds are [1]: seed 2 was "no finished runs", and `a|b` matched no run by exact text
  const r = script(
    "scripts/eval-file.ts",
    [`--file=${csv}`, "--scale=smoke", "--seeds=1,2", "--where=model:baseline|lst-static", "--backend=nosuch"],
    { LST_DATA_DIR: root },
  );
  assert.match(r.stdout, /grid 'default' at scale 'smoke': 4 of 4 runs finished/, r.stderr);
  assert.match(r.stderr, /unknown backend 'nosuch'/); // stops here: the selection is what is under test
  const one = script("scripts/eval-file.ts", [`--file=${csv}`, "--scale=smoke", "--seeds=2", "--backend=nosuch"], {
    LST_DATA_DIR: root,
  });
  assert.match(one.stdout, /2 of 3 runs finished \(the others are left out; npm start -- .*--seeds=2/, one.stderr);
});

test("a --where alternative that matches nothing, or holds a path, is refused naming it and the values that exist", () => {
  const root = tmpDir();
  const r = script(
    "scripts/main.ts",
    ["--scale=smoke", "--dry-run", "--where=model:baseline|/../../../../../../../../escape/y"],
    { LST_DATA_DIR: root },
  );
  assert.equal(r.code, 1, r.stdout);
  assert.match(
    r.stderr,
    /model '\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/escape\/y' matches nothing; model takes baseline, lst-static, lst-curriculum/,
  );
  assert.ok(noStack(r.stderr), r.stderr);
  assert.deepEqual(fs.readdirSync(root), [], "nothing is written");
  assert.throws(
    () => selectGrid("phoneticPatching", smoke, [1], { budget: "4x", model: "baseline|lst-alignd" }),
    /model 'lst-alignd' matches nothing; model takes baseline, lst-static, lst-aligned, lst-curriculum/,
  );
  assert.throws(() => selectGrid("default", smoke, [1], { modle: "baseline" }), /no key 'modle'; the keys are model/);
});

test("Slurm --env names must be variable names: a name never becomes shell code in task.sh", () => {
  for (const name of ["X;touch marker;Y", "1X", "A B", "$(id)", ""]) {
    assert.throws(
      () => resolveExecutor({ kind: "slurm", env: { [name]: "1" } }),
      (e: Error) => e.message.includes(JSON.stringify(name)) && /not a variable name/.test(e.message),
    );
  }
  assert.deepEqual(resolveExecutor({ kind: "slurm", env: { LST_BACKEND: "it's $(cpu)" } }).env, {
    LST_BACKEND: "it's $(cpu)",
  });
  const cwd = tmpDir();
  const r = script("scripts/main.ts", ["--scale=smoke", "--executor=slurm", "--env=X;touch marker;Y=1"], {
    LST_DATA_DIR: cwd,
  });
  assert.equal(r.code, 2, r.stdout);
  assert.match(r.stderr, /--env name 'X;touch marker;Y' is not a variable name/);
  assert.deepEqual(fs.readdirSync(cwd), []);
});

test("prototype keys are unknown keys, grids, scales and presets, and never reach Object.prototype", () => {
  const spec = { command: "x", summary: "x", flags: {}, overrides: { prefixes: ["model"], help: "x" } } as const;
  let over: Record<string, unknown>;
  try {
    over = parseCli(spec, ["--model.__proto__.polluted=1"]).overrides;
    assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype is untouched");
  } finally {
    delete (Object.prototype as Record<string, unknown>).polluted; // a failure here must not break later tests
  }
  assert.throws(
    () => resolveConfig(DEFAULT_MODEL_CONFIG, over.model as object, "model"),
    /unknown config key 'model\.__proto__'\. Known keys here: kind,/,
  );
  assert.throws(
    () => resolveConfig(DEFAULT_MODEL_CONFIG, parseCliOverrides(["--constructor=1"]) as object, "model"),
    /unknown config key 'model\.constructor'/,
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.throws(
    () => parseCli({ command: "x", summary: "x", flags: {} }, ["--constructor=1"]),
    /unknown flag '--constructor'/,
  );
  for (const g of ["constructor", "toString", "__proto__", "hasOwnProperty"])
    assert.throws(() => gridEntries(g, smoke), new RegExp(`unknown grid '${g}': choose one of default,`));
  assert.throws(() => resolveDataConfig("constructor"), /unknown data preset 'constructor': choose one of/);
  assert.throws(() => selectGrid("default", smoke, [1], { ["__proto__"]: "x" }), /no key '__proto__'/);
  const t = trainCli(tinyCliArgs(2, ["--model.__proto__.polluted=1"]));
  assert.notEqual(t.code, 0);
  assert.match(t.out, /unknown config key 'model\.__proto__'/);
  const s = script("scripts/main.ts", ["--scale=constructor", "--dry-run"]);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /--scale: unknown value 'constructor': choose one of smoke, small, gpu, paper/);
});

test("export takes a run store's run dir (its checkpoint is in train/); a truncated bpe.json or a broken JSON override is named", async () => {
  const run = tmpDir();
  const res = await train({
    model: TINY_MODEL,
    train: { ...TINY_TRAIN, steps: 2 },
    source: syntheticSource(0),
    dir: path.join(run, "train"),
  });
  res.model.dispose();
  const r = script("scripts/export.ts", [run]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(fs.existsSync(path.join(run, "train", "model.safetensors")));
  assert.ok(fs.existsSync(path.join(run, "train", "metrics.csv")));
  const data = tmpDir();
  const t = BpeTokenizer.train(["a cat sat on the mat", "the cat ran"], 300);
  const text = JSON.stringify(t.toJSON());
  const bpe = path.join(data, "bpe.json");
  fs.writeFileSync(bpe, text.slice(0, Math.floor(text.length / 2)));
  assert.throws(
    () => BpeTokenizer.load(bpe),
    (e: Error) => e.message.includes(bpe) && /truncated/.test(e.message),
  );
  assert.throws(() => parseCliOverrides(["--x=[1,"]), /cannot parse the value of --x as JSON .*quote it/);
  const neither = script("scripts/export.ts", [tmpDir()]);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /holds neither checkpoint\.json \(a run dir, or its train\/\) nor bpe\.json/);
});

test("--seeds: an empty item, an empty value or a repeated seed is a usage error, not seed 0 or the default", () => {
  const r = script("scripts/main.ts", ["--scale=smoke", "--dry-run", "--seeds=1,"]);
  assert.equal(r.code, 2, r.stdout);
  assert.match(r.stderr, /--seeds must be integers separated by commas, e\.g\. 1,2,3; got '1,' \(an empty item\)/);
  const spec = { command: "x", summary: "x", flags: { runDir: { type: "string", value: "DIR", help: "x" } } } as const;
  assert.throws(() => parseCli(spec, ["--runDir="]), /--runDir is empty: give a value \(DIR\), or leave the flag out/);
  const e = script("scripts/eval-file.ts", ["--file=x.csv", "--seeds="]);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /--seeds is empty: give seeds as integers separated by commas/);
  assert.ok(noStack(e.stderr), e.stderr);
});

test("a benchmark file with repeated ids, mixed ending counts, a byte-order mark or Latin-1 bytes", () => {
  const dir = tmpDir();
  const write = (name: string, data: string | Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, data);
    return f;
  };
  const dupCsv = write("dup.csv", [CLOZE_HEADER, clozeRow("s1"), clozeRow("s2"), clozeRow("s1")].join("\n"));
  assert.throws(
    () => loadBenchmarkFile(dupCsv),
    (e: Error) =>
      e.message.includes(dupCsv) && /line 4: InputStoryid gives the id 'storycloze-s1' of line 2 again/.test(e.message),
  );
  const dupHs = write("dup.jsonl", [hsLine(7, ["a", "b", "c", "d"]), hsLine(7, ["a", "b", "c", "d"])].join("\n"));
  assert.throws(() => loadBenchmarkFile(dupHs), /line 2: 'ind' gives the id 'hellaswag-7' of line 1 again/);
  const mixed = write("mixed.jsonl", [hsLine(1, ["a", "b", "c", "d"]), hsLine(2, ["a", "b"])].join("\n"));
  assert.throws(
    () => loadBenchmarkFile(mixed),
    /line 2: 2 endings, but line 1 \(the first item\) has 4; a file must give every item the same number of endings/,
  );
  const bom = write("bom.jsonl", `\ufeff${hsLine(1, ["a", "b", "c", "d"])}\n${hsLine(2, ["e", "f", "g", "h"])}\n`);
  assert.equal(loadBenchmarkFile(bom).length, 2);
  const latin = write(
    "latin.csv",
    Buffer.from(`${CLOZE_HEADER}\n${clozeRow("s1").replace("cat", "caf\xe9")}\n`, "latin1"),
  );
  assert.throws(
    () => loadBenchmarkFile(latin),
    (e: Error) =>
      e.message.includes(latin) && /is not UTF-8 \(byte \d+ is 0xe9/.test(e.message) && /iconv/.test(e.message),
  );
});

test("a path of the wrong type is named with what was expected: --runDir, the lock, --runs, --file", async () => {
  const dir = tmpDir();
  const file = path.join(dir, "afile");
  fs.writeFileSync(file, "x");
  const t = trainCli(tinyCliArgs(2, [`--runDir=${file}`]));
  assert.equal(t.code, 1);
  assert.match(t.out, new RegExp(`the run directory \\(--runDir\\) ${file} is a file, not a directory`));
  const under = trainCli(tinyCliArgs(2, [`--runDir=${path.join(file, "run")}`]));
  assert.match(under.out, new RegExp(`lies under ${file}, which is a file, not a directory`));
  const lock = path.join(dir, "run", "lock");
  fs.mkdirSync(lock, { recursive: true });
  assert.throws(() => lockNow(lock), new RegExp(`the lock ${lock} is a directory, not a lock file: .*rm -r`));
  const m = script("scripts/main.ts", ["--scale=smoke", "--dry-run", `--runs=${file}`]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, new RegExp(`the run store \\(--runs\\) ${file} is a file, not a directory`));
  fs.mkdirSync(path.join(dir, "x.csv"));
  assert.throws(
    () => loadBenchmarkFile(path.join(dir, "x.csv")),
    new RegExp(`${path.join(dir, "x.csv")} is a directory, not a file`),
  );
});

test("an empty LST_DATA_DIR is a usage error: the message, exit 2, no stack trace", () => {
  for (const [s, args] of [
    ["scripts/main.ts", ["--scale=smoke", "--dry-run"]],
    ["scripts/eval-file.ts", ["--file=x.csv"]],
  ] as const) {
    const r = script(s, [...args], { LST_DATA_DIR: "" });
    assert.equal(r.code, 2, `${s}: ${r.stderr}`);
    assert.match(r.stderr, /LST_DATA_DIR is set but empty: unset it/);
    assert.ok(noStack(r.stderr), `${s}: ${r.stderr}`);
  }
});

test("degenerate training configs: a non-finite --mix, an LST global length above the raw length", () => {
  const dir = path.join(tmpDir(), "run");
  for (const mix of ["Infinity:1", "1:"]) {
    const r = trainCli(["--data=smoke", `--mix=${mix}`, `--runDir=${dir}`]);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, new RegExp(`--mix must be two finite numbers >= 0, not both 0, .* got '${mix}'`));
  }
  assert.throws(
    () => resolveTrainConfig({ globalLen: 64, maxRawLen: 32 }, "lst"),
    /'globalLen' 64 is above 'maxRawLen' 32: .* raise train\.maxRawLen .* or lower train\.globalLen/,
  );
  assert.equal(resolveTrainConfig({ globalLen: 64, maxRawLen: 32 }, "baseline").globalLen, 64);
  const r = trainCli(tinyCliArgs(2, ["--model.kind=lst", "--train.globalLen=64", `--runDir=${dir}`]));
  assert.equal(r.code, 1);
  assert.match(r.out, /'globalLen' 64 is above 'maxRawLen' 32/);
  assert.equal(fs.existsSync(dir), false, "no run dir is made for a refused config");
});

test("rows too short to reach speech: a fresh run whose first batches hold no speech token is refused, naming the lengths", async () => {
  await initBackend();
  const model = { kind: "lst" as const, dModel: 16, nLayers: 1, nHeads: 2, maxSeqLen: 32 };
  const short = { steps: 12, batchSize: 2, seqLen: 8, globalLen: 2, maxRawLen: 8, logEvery: 0 };
  const source = syntheticSource(0);
  await assert.rejects(
    train({ model, train: short, source }),
    /the first 8 batches hold no speech token although the data has speech: rows of train\.globalLen=2 global positions \(train\.maxRawLen=8 raw tokens\) .* raise train\.globalLen and train\.maxRawLen/,
  );
  // the same data in rows long enough to reach speech trains, and its speech loss is finite
  const ok = await train({
    model: { ...model, maxSeqLen: 64 },
    train: { ...short, steps: 2, seqLen: 64, globalLen: 16, maxRawLen: 64 },
    source,
  });
  assert.ok(ok.metrics.some((m) => Number.isFinite(m.lossSpeech)));
  ok.model.dispose();
  // a text-only source (no speech in its data) is legal: no speech is what was asked for
  const textOnly = {
    ...source,
    sequenceAt: (i: number) => {
      const s = source.sequenceAt(i);
      const keep = Array.from(s.isSpeech)
        .map((v, j) => (v ? -1 : j))
        .filter((j) => j >= 0);
      const pick = <T extends Int32Array | Uint8Array>(a: T) => a.filter((_, j) => keep.includes(j)) as T;
      return {
        ids: pick(s.ids),
        isSpeech: pick(s.isSpeech),
        wordStart: pick(s.wordStart),
        silence: pick(s.silence),
        bpeStart: pick(s.bpeStart),
      };
    },
  };
  const text = await train({ model, train: { ...short, steps: 8 }, source: textOnly });
  assert.equal(text.metrics.length, 8);
  text.model.dispose();
});
