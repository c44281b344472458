import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { spawnSync } from "child_process";
import { CliError, helpText, intList, keyValues, parseCli, type CliSpec } from "../../lib/tooling/cli";
import { formatPlan, planGrid } from "../../lib/experiment/plan";
import { SCALES, resolveExperiment } from "../../lib/experiment/experiment";
import { selectGrid } from "../../lib/experiment/grids";
import { RunStore } from "../../lib/experiment/runs";
import { PROVENANCE_FILE, readProvenance } from "../../lib/experiment/provenance";
import { runGrid } from "../../lib/experiment/grid-study";

const ROOT = path.resolve(__dirname, "..", "..");
const made: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "lst-cli-"));
  made.push(d);
  return d;
};
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const SPEC = {
  command: "npm start --",
  summary: "test command",
  flags: {
    grid: { type: "string", default: "default", value: "NAME", help: "the grid" },
    steps: { type: "number", default: 20, help: "steps" },
    "dry-run": { type: "boolean", help: "list only" },
    seeds: { type: "string", value: "1,2,3", help: "seeds" },
  },
  overrides: { prefixes: ["model", "train"], help: "a config override" },
  examples: ["npm start -- --grid mixRatio"],
} as const satisfies CliSpec;

const err = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof CliError, `a usage error, got ${String(e)}`);
    return e.message;
  }
  throw new Error("expected a usage error");
};

test("'--flag value' and '--flag=value' are the same; defaults fill the rest", () => {
  for (const argv of [["--grid", "mixRatio"], ["--grid=mixRatio"]]) {
    const r = parseCli(SPEC, argv);
    assert.equal(r.values.grid, "mixRatio");
    assert.equal(r.values.steps, 20);
    assert.equal(r.values["dry-run"], false);
    assert.equal(r.values.seeds, "");
    assert.deepEqual([...r.given], ["grid"]);
  }
  assert.equal(parseCli(SPEC, ["--steps", "5"]).values.steps, 5);
  assert.equal(parseCli(SPEC, ["--steps=-1"]).values.steps, -1);
  // switches: alone, or with a value that says which way (the README's --norms=1 keeps working)
  assert.equal(parseCli(SPEC, ["--dry-run"]).values["dry-run"], true);
  assert.equal(parseCli(SPEC, ["--dry-run=1"]).values["dry-run"], true);
  assert.equal(parseCli(SPEC, ["--dry-run=false"]).values["dry-run"], false);
  assert.equal(parseCli(SPEC, ["-h"]).help, true);
  assert.equal(parseCli(SPEC, ["--help"]).help, true);
});

test("bad input is a usage error naming the flag and the fix", () => {
  const unknown = err(() => parseCli(SPEC, ["--gird=mixRatio"]));
  assert.match(unknown, /unknown flag '--gird'/);
  assert.match(unknown, /Valid flags: --help, --grid, --steps, --dry-run, --seeds, --model\.<key>, --train\.<key>/);
  assert.match(
    err(() => parseCli(SPEC, ["--grid"])),
    /--grid needs a value \(NAME\)/,
  );
  assert.match(
    err(() => parseCli(SPEC, ["--grid", "--dry-run"])),
    /--grid needs a value/,
  );
  assert.match(
    err(() => parseCli(SPEC, ["--steps=many"])),
    /--steps must be a number, got 'many'/,
  );
  assert.match(
    err(() => parseCli(SPEC, ["--dry-run=maybe"])),
    /--dry-run is a switch/,
  );
  assert.match(
    err(() => parseCli(SPEC, ["stray"])),
    /unexpected argument 'stray'.*takes no positional arguments/,
  );
  assert.match(
    err(() => parseCli(SPEC, ["--model=lst"])),
    /unknown flag '--model' \(config overrides take a key: --model\.<key>=value\)/,
  );
  assert.match(
    err(() => parseCli(SPEC, ["--data.x=1"])),
    /unknown flag '--data\.x'/,
  );
  assert.match(
    err(() => intList("seeds", "1,x")),
    /--seeds must be integers/,
  );
  assert.deepEqual(intList("seeds", "1,2"), [1, 2]);
  assert.equal(intList("seeds", ""), undefined);
  assert.deepEqual(keyValues("where", "units:phonetic,budget:1x"), { units: "phonetic", budget: "1x" });
  assert.match(
    err(() => keyValues("where", "units")),
    /--where takes key:value pairs/,
  );
});

test("dotted overrides nest under their prefix, with values coerced, in both forms", () => {
  const r = parseCli(SPEC, [
    "--model.kind=lst",
    "--model.lst.patchSize",
    "4",
    "--train.steps=50",
    "--train.betas=[0.9,0.95]",
    "--model.docReset",
  ]);
  assert.deepEqual(r.overrides, {
    model: { kind: "lst", lst: { patchSize: 4 }, docReset: true },
    train: { steps: 50, betas: [0.9, 0.95] },
  });
  assert.deepEqual(r.positionals, []);
});

test("--help prints usage, every flag with its default, the overrides and examples", () => {
  const h = helpText(SPEC);
  assert.match(h, /^usage: npm start -- \[options\]/);
  assert.match(h, /-h, --help\s+print this help and exit/);
  assert.match(h, /--grid=NAME\s+the grid \(default: default\)/);
  assert.match(h, /--steps=N\s+steps \(default: 20\)/);
  assert.match(h, /--dry-run\s+list only\n/, "a switch has no default shown");
  assert.match(h, /--model\.<key>=VALUE\s+a config override/);
  assert.match(h, /examples:\n {2}npm start -- --grid mixRatio/);
});

test("--dry-run plan of a tiny grid: cached runs marked, a stale one shown, the rest estimated", async () => {
  const runsRoot = tmp();
  const scale = SCALES.smoke;
  const store = new RunStore(runsRoot);
  const cells = [{ benchmark: "sc", direction: "S2S", n: 8, correct: 4, accuracy: 0.5, chance: 0.5 }];
  // the baseline is finished (with 4 steps of 50 ms logged); lst-static was made by other code; lst-curriculum is new
  const [base, stat] = selectGrid("default", scale, [1]).map((e) => resolveExperiment(e.spec, scale));
  await store.ensure(base, base.name, async (dir) => {
    fs.writeFileSync(
      path.join(dir, "metrics.jsonl"),
      [0, 1, 2, 3].map((step) => JSON.stringify({ step, loss: 1, ms: 50 })).join("\n") + "\n",
    );
    return { eval: { cells } };
  });
  const statRec = await store.ensure(stat, stat.name, async () => ({ eval: { cells } }));
  const p = readProvenance(statRec.dir)!;
  fs.writeFileSync(
    path.join(statRec.dir, PROVENANCE_FILE),
    JSON.stringify({ ...p, segments: [{ ...p.segments[0], code: "lib:0123456789ab" }] }),
  );

  const plan = planGrid("default", scale, { seeds: [1], runsRoot });
  assert.deepEqual(
    plan.runs.map((r) => [r.name, r.state, r.train]),
    [
      ["baseline", "cached", false],
      ["lst-static", "stale", false],
      ["lst-curriculum", "new", true],
    ],
  );
  const cur = plan.runs[2];
  assert.equal(cur.steps, scale.train.steps);
  assert.ok(cur.stepMs !== null && cur.ms === cur.steps * cur.stepMs);
  assert.match(cur.stepTime, /measured by `npx tsx bench\/step-time\.ts --scale=smoke/);
  const text = formatPlan(plan);
  assert.match(text, /cached\s+baseline\s+1\s+-\s+-/);
  assert.match(text, /stale\s+lst-static/);
  assert.match(text, /train \(new\)\s+lst-curriculum\s+1\s+12\s+\d+ s/);
  assert.match(
    text,
    /3 runs, 1 cached, 1 stale \(other code\), 1 to train, about \d+ s of training; 1 finished by other or unknown code are reused/,
  );

  // with rerunStale the stale run trains too; a new baseline seed is timed by the finished baseline's 50 ms steps
  const again = planGrid("default", scale, { seeds: [1, 2], runsRoot, rerunStale: true });
  assert.deepEqual(
    again.runs.filter((r) => r.train).map((r) => `${r.name}/${r.seed}`),
    ["baseline/2", "lst-static/1", "lst-static/2", "lst-curriculum/1", "lst-curriculum/2"],
  );
  const b2 = again.runs.find((r) => r.name === "baseline" && r.seed === 2)!;
  assert.equal(b2.stepMs, 50);
  assert.match(b2.stepTime, /median step of 1 finished run in /);

  // cachedOnly: the finished runs come back, nothing trains, the plan is shown
  const lines: string[] = [];
  const runs = await runGrid("default", { scale, seeds: [1], runsRoot, cachedOnly: true, log: (l) => lines.push(l) });
  assert.deepEqual(
    runs.map((r) => r.config.name),
    ["baseline", "lst-static"],
  );
  assert.match(lines.join("\n"), /train \(new\)\s+lst-curriculum[\s\S]*cachedOnly: nothing trains/);
  assert.equal(fs.existsSync(store.runDir(resolveExperiment(selectGrid("default", scale, [1])[2].spec, scale))), false);
});

test("every script answers --help with its flags and exits 0; main's --dry-run and unknown flags work end to end", () => {
  const scripts = [
    "scripts/main.ts",
    "scripts/scale-budget.ts",
    "scripts/train.ts",
    "scripts/notebooks.ts",
    "scripts/kernel.ts",
    "bench/index.ts",
    "bench/train.ts",
    "bench/train-bench.ts",
    "bench/optimizer-bench.ts",
    "bench/eval.ts",
    "bench/audio.ts",
    "bench/bpe.ts",
    "bench/step-time.ts",
  ];
  for (const s of scripts) {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, s), "--help"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, `${s} --help: ${r.stderr}`);
    assert.match(r.stdout, /^usage: .*\[options\]/, s);
    assert.match(r.stdout, /-h, --help/, s);
  }
  const runsRoot = tmp();
  const dry = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(ROOT, "scripts/main.ts"),
      "--grid",
      "default",
      "--scale=smoke",
      "--seeds=1",
      `--runs=${runsRoot}`,
      "--dry-run",
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /train \(new\)\s+baseline/);
  assert.match(dry.stdout, /3 runs, 0 cached, 3 to train/);
  assert.deepEqual(fs.readdirSync(runsRoot), [], "a dry run writes nothing");
  const bad = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/main.ts"), "--gird=x"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown flag '--gird'\. Valid flags: .*--grid/);
  const train = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "scripts/train.ts"), "--model.knd=lst"],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.notEqual(train.status, 0);
  assert.match(train.stderr, /unknown config key 'model\.knd'\. Known keys here: kind,/);
});

test("--dry-run times a new run by the fastest finished run of its shape (each run's median step)", async () => {
  const runsRoot = tmp();
  const scale = SCALES.smoke;
  const store = new RunStore(runsRoot);
  const cells = [{ benchmark: "sc", direction: "S2S", n: 8, correct: 4, accuracy: 0.5, chance: 0.5 }];
  const baselineOf = (seed: number) =>
    resolveExperiment(selectGrid("default", scale, [seed], { model: "baseline" })[0].spec, scale);
  // seed 1 ran on quiet cores (one 400 ms spike: the median ignores it); seed 2 shared its cores (120 ms a step)
  const logged = { 1: [999, 999, 40, 50, 400, 50, 60], 2: [999, 999, 120, 110, 130] } as const;
  for (const seed of [1, 2] as const) {
    const cfg = baselineOf(seed);
    await store.ensure(cfg, `${cfg.name}/${seed}`, async (dir) => {
      const lines = logged[seed].map((ms, step) => JSON.stringify({ step, loss: 1, ms }));
      fs.writeFileSync(path.join(dir, "metrics.jsonl"), lines.join("\n") + "\n");
      return { eval: { cells } };
    });
  }
  const plan = planGrid("default", scale, { seeds: [3], runsRoot, where: { model: "baseline" } });
  const r = plan.runs[0];
  assert.equal(r.stepMs, 50); // seed 1's median of [40, 50, 400, 50, 60] (the first 2 steps are warm-up)
  assert.match(r.stepTime, /50 ms: median step of the fastest of 2 finished runs in .* \(the nearest to quiet cores\)/);
});
