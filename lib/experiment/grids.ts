/**
 * The paper's ablations as named grids: each expands to experiment specs (one per knob value), then to one
 * run per seed. A grid runs from a notebook cell (`runGrid('patchSize')`) or the CLI
 * (`npm start -- --grid patchSize`), with progress, and skips finished runs (the run store caches them).
 *
 * Each spec carries `group` values (the knob and its value) that the figures and tables read, so a figure
 * never parses run names.
 *
 * An entry at the lab's own setting of its knob (patch size 4, silence separate, the default curriculum, the
 * scale's mix ratio and model size, no jitter, the main job's calibration cell) has the config of the main job's or
 * the models grid's run, so it is the same run (the store keys runs by config, the name is a label): computed
 * once, in every table. Such entries are also named like that run, so the tables show one model name for it.
 *
 *   grid          knob (paper)                                      runs per seed
 *   default       baseline vs LST static vs LST curriculum (Tab. 3)    3
 *   models        baseline, BPE-speech, LST static/aligned/mixed/curriculum (Tab. 3, 4)   6
 *   patchSize     static patch size 4, 6, 9 (Tab. 5)                   3
 *   silence       aligned patches with silence separate vs merged      2
 *   alignment     word vs BPE alignment (Tab. 6), with a 500-token text BPE   2
 *   curriculum    curriculum schedule (tau1, tau2)                     3
 *   mixRatio      interleaved : text-only 1:4, 1:3, 1:2, 1:1 (Fig. 6), baseline and LST   8
 *   budget        compute- vs data-controlled, baseline and LST (Tab. 3 vs 4)   4
 *   scaling       model size (Fig. 4), baseline and LST                 2 x sizes
 *   jitter        aligner boundary noise 0, 1, 2, 4 frames              4
 *   textPath      LST with text through the local modules vs in and out of the global model (§1 [I])   3
 *   calibration   unit source (acoustic, phonetic) x budget (1x, 4x the scale's steps) x mix (the scale's,
 *                 the paper's: no speech-only documents), baseline and LST                           16
 *   phoneticPatching  baseline vs LST static / aligned / curriculum on phonetic units, 1x and 4x budget: do
 *                 word-aligned patches lift S→S once a word's units are the same across voices? (Tab. 3, 5)   8
 *                 + the 16x cell, opt-in (below): `--where=budget:16x`                                    + 4
 *
 * Opt-in entries (`optIn`): an entry a grid offers but does not run unless asked for by name. The phonetic
 * 16x cell costs 16 / (1 + 4) = 3.2x the rest of its grid, so running it by default would make
 * `npm start -- --grid=phoneticPatching` take 4.2x as long ((1 + 4 + 16) / (1 + 4) the steps). It runs only
 * when `where` names its key (`budget: "16x"`), at every scale, with the same configs whether it trains here,
 * on a GPU backend or through an executor; the tables (`scaleRuns`) show it once it is in the run store.
 */
import { hasOwn } from "../config";
import { resolveDataConfig } from "../data/config";
import { PAPER_MIX, type ExperimentSpec, type LabScale } from "./experiment";

export interface GridEntry {
  spec: ExperimentSpec;
  /** the knob this grid varies and the value of this entry, for tables and figures */
  group: Record<string, string | number>;
  /** a group key that `where` must name for this entry to run (see the header); absent = a default entry */
  optIn?: string;
}

const baseline = (name = "baseline"): ExperimentSpec => ({ name, variant: "baseline" });
const lst = (name: string, patching: ExperimentSpec["patching"] = {}): ExperimentSpec => ({
  name,
  variant: "lst",
  patching,
});

const STATIC = { scheme: "static", patchSize: 4 } as const;
/** the alignment grid's text BPE size (see there) */
export const ALIGNMENT_TEXT_VOCAB = 500;
const ALIGNED = { scheme: "aligned", align: "word", silence: "separate" } as const;
const CURRICULUM = { scheme: "curriculum", align: "word", silence: "separate", patchSize: 4 } as const;

/**
 * `spec` on `source` units for `mult` x the scale's steps under `mix`, named by all three:
 * unitCell(baseline(), "phonetic", 4, scale, scale.mix).name = "baseline-phonetic-4x". The calibration and
 * phoneticPatching grids both build their cells with it, so a cell they share is one run.
 */
function unitCell(
  spec: ExperimentSpec,
  source: "acoustic" | "phonetic",
  mult: number,
  scale: LabScale,
  mix: ExperimentSpec["mix"],
  tag = "",
): ExperimentSpec {
  return {
    ...spec,
    name: `${spec.name}-${source}-${mult}x${tag}`,
    data: { units: { source } },
    train: { steps: (scale.train.steps ?? 200) * mult },
    mix,
  };
}

function byModel(specs: ExperimentSpec[]): GridEntry[] {
  return specs.map((spec) => ({ spec, group: { model: spec.name } }));
}

/** The scaling grid's model sizes at each scale (model/sizes.ts): what the scale can afford, its own size included. */
const SCALING_SIZES: Record<string, string[]> = {
  smoke: ["smoke"],
  small: ["smoke", "cpuSmall"],
  gpu: ["cpuSmall", "gpuSmall", "gpuBase"],
  paper: ["gpuSmall", "gpuBase"],
};

/** Grid presets. `scale` lets the scaling grid pick sizes the scale can afford. */
export const GRIDS: Record<string, (scale: LabScale) => GridEntry[]> = {
  default: () => byModel([baseline(), lst("lst-static", STATIC), lst("lst-curriculum", CURRICULUM)]),
  models: () =>
    byModel([
      baseline(),
      { name: "bpe-speech", variant: "bpe-speech" },
      lst("lst-static", STATIC),
      lst("lst-aligned", ALIGNED),
      lst("lst-mixed", { scheme: "mixed", align: "word", silence: "separate", mixedProb: 0.5, patchSize: 4 }),
      lst("lst-curriculum", CURRICULUM),
    ]),
  patchSize: () =>
    [4, 6, 9].map((p) => ({
      spec: lst(p === 4 ? "lst-static" : `lst-static-p${p}`, { scheme: "static", patchSize: p }),
      group: { patchSize: p },
    })),
  silence: () =>
    (["separate", "merged"] as const).map((s) => ({
      spec: lst(s === "separate" ? "lst-aligned" : `lst-aligned-sil-${s}`, { ...ALIGNED, silence: s }),
      group: { silence: s },
    })),
  alignment: (scale) => {
    // A text BPE small enough that words split into pieces, else BPE spans are word spans: with the lab's
    // 164-word story world and its 1000-token BPE (`small`), 0 of 19,342 spoken words split; with 500 tokens
    // 24% do (1.47 pieces a word, near a large tokenizer on natural text). lab.wordPieceStats, notebook 06.
    const textVocab = Math.min(resolveDataConfig(scale.data).textVocab, ALIGNMENT_TEXT_VOCAB);
    return (["word", "bpe"] as const).map((a) => ({
      spec: { ...lst(`lst-curriculum-${a}`, { ...CURRICULUM, align: a }), data: { textVocab } },
      group: { alignment: a, textVocab },
    }));
  },
  curriculum: () =>
    (
      [
        [1 / 3, 2 / 3],
        [0.1, 0.5],
        [0.5, 0.9],
      ] as const
    ).map(([tau1, tau2]) => ({
      spec: lst(
        tau1 === 1 / 3 && tau2 === 2 / 3 ? "lst-curriculum" : `lst-curriculum-${tau1.toFixed(2)}-${tau2.toFixed(2)}`,
        { ...CURRICULUM, tau1, tau2 },
      ),
      group: { schedule: `${tau1.toFixed(2)}-${tau2.toFixed(2)}` },
    })),
  mixRatio: () => {
    const out: GridEntry[] = [];
    for (const [i, t] of [
      [1, 4],
      [1, 3],
      [1, 2],
      [1, 1],
    ] as const) {
      const mix = { mixRatio: [i, t] as [number, number] };
      const shared = i === 1 && t === 2; // the scale's own ratio: the main job's runs
      out.push({
        spec: { ...baseline(shared ? "baseline" : `baseline-mix-${i}-${t}`), mix },
        group: { model: "baseline", mixRatio: `${i}:${t}`, mixFraction: i / (i + t) },
      });
      out.push({
        spec: { ...lst(shared ? "lst-static" : `lst-static-mix-${i}-${t}`, STATIC), mix },
        group: { model: "lst-static", mixRatio: `${i}:${t}`, mixFraction: i / (i + t) },
      });
    }
    return out;
  },
  budget: () => {
    const out: GridEntry[] = [];
    // the compute-controlled cell is the main job's (default grid's) runs, shared
    out.push({ spec: baseline(), group: { model: "baseline", budget: "compute" } });
    out.push({ spec: lst("lst-static", STATIC), group: { model: "lst-static", budget: "compute" } });
    out.push({ spec: { ...baseline("baseline-data"), budget: "data" }, group: { model: "baseline", budget: "data" } });
    out.push({
      spec: { ...lst("lst-static-data", STATIC), budget: "data" },
      group: { model: "lst-static", budget: "data" },
    });
    return out;
  },
  scaling: (scale) => {
    const sizes = SCALING_SIZES[scale.name] ?? SCALING_SIZES.small;
    const out: GridEntry[] = [];
    for (const size of sizes) {
      const own = size === scale.size; // the scale's own size: the main job's runs
      out.push({
        spec: { ...baseline(own ? "baseline" : `baseline-${size}`), size },
        group: { model: "baseline", size },
      });
      out.push({
        spec: { ...lst(own ? "lst-static" : `lst-static-${size}`, STATIC), size },
        group: { model: "lst-static", size },
      });
    }
    return out;
  },
  textPath: () => [
    { spec: baseline(), group: { model: "baseline", textPath: "-" } },
    {
      spec: { ...lst("lst-static-textlocal", STATIC), model: { lst: { textPath: "local" } } },
      group: { model: "lst-static", textPath: "local" },
    },
    { spec: lst("lst-static", STATIC), group: { model: "lst-static", textPath: "global" } },
  ],
  calibration: (scale) => {
    const out: GridEntry[] = [];
    const mixes = [
      { name: "lab", mix: scale.mix },
      { name: "paper", mix: PAPER_MIX },
    ];
    for (const { name: mixName, mix } of mixes) {
      // at a scale whose mix is the paper's, the 'paper' entries would repeat the 'lab' ones
      if (mixName === "paper" && JSON.stringify(mix) === JSON.stringify(scale.mix)) continue;
      const tag = mixName === "lab" ? "" : "-papermix";
      for (const source of ["acoustic", "phonetic"] as const) {
        for (const mult of [1, 4]) {
          const group = { units: source, budget: `${mult}x`, mix: mixName };
          // the main job's own cell (acoustic units, its budget and mix) is the default grid's runs, shared
          if (mixName === "lab" && source === "acoustic" && mult === 1) {
            out.push({ spec: baseline(), group: { model: "baseline", ...group } });
            out.push({ spec: lst("lst-static", STATIC), group: { model: "lst-static", ...group } });
            continue;
          }
          out.push({
            spec: unitCell(baseline(), source, mult, scale, mix, tag),
            group: { model: "baseline", ...group },
          });
          out.push({
            spec: unitCell(lst("lst-static", STATIC), source, mult, scale, mix, tag),
            group: { model: "lst-static", ...group },
          });
        }
      }
    }
    return out;
  },
  // The baseline and LST static entries are the calibration grid's phonetic runs (unitCell: same configs, same names).
  // The 16x cell is opt-in (the header): `where` must name budget 16x.
  phoneticPatching: (scale) => {
    const out: GridEntry[] = [];
    for (const mult of [1, 4, 16]) {
      const group = { units: "phonetic", budget: `${mult}x` };
      const cell = (spec: ExperimentSpec, model: string): GridEntry => ({
        spec: unitCell(spec, "phonetic", mult, scale, scale.mix),
        group: { model, ...group },
        ...(mult === 16 ? { optIn: "budget" } : {}),
      });
      out.push(
        cell(baseline(), "baseline"),
        cell(lst("lst-static", STATIC), "lst-static"),
        cell(lst("lst-aligned", ALIGNED), "lst-aligned"),
        cell(lst("lst-curriculum", CURRICULUM), "lst-curriculum"),
      );
    }
    return out;
  },
  jitter: () =>
    [0, 1, 2, 4].map((j) => ({
      spec: { ...lst(j === 0 ? "lst-aligned" : `lst-aligned-jitter-${j}`, ALIGNED), data: { jitterFrames: j } },
      group: { model: "lst-aligned", jitterFrames: j },
    })),
};

/** One line per grid for `--list-grids` (the table at the top of this file). */
export const GRID_SUMMARY: Record<string, string> = {
  default: "baseline vs LST static vs LST curriculum (Tab. 3): the main job",
  models: "baseline, BPE-speech, LST static / aligned / mixed / curriculum (Tab. 3, 5)",
  patchSize: "static patch size 4, 6, 9 (Tab. 5)",
  silence: "aligned patches with silence separate vs merged",
  alignment: "word vs BPE alignment under the curriculum (Tab. 6), with a 500-token text BPE",
  curriculum: "curriculum schedule (tau1, tau2)",
  mixRatio: "interleaved : text-only 1:4, 1:3, 1:2, 1:1 (Fig. 6), baseline and LST",
  budget: "compute- vs data-controlled, baseline and LST (Tab. 3 vs 4)",
  scaling: "model size (Fig. 4), baseline and LST",
  jitter: "aligner boundary noise 0, 1, 2, 4 frames",
  textPath: "LST with text through the local modules vs in and out of the global model (§1 [I])",
  calibration: "unit source x budget (1x, 4x) x mix (the scale's, the paper's), baseline and LST",
  phoneticPatching:
    "baseline vs LST static / aligned / curriculum on phonetic units, 1x and 4x budget (16x: --where=budget:16x)",
};

export interface GridRun extends GridEntry {
  seed: number;
}

/** The entries of a grid at a scale; its opt-in ones only `withOptIn` (without: what `--list-grids` counts). */
export function gridEntries(name: string, scale: LabScale, withOptIn = false): GridEntry[] {
  const make = hasOwn(GRIDS, name) ? GRIDS[name] : undefined; // own names only: not 'constructor', 'toString'
  if (!make) throw new Error(`unknown grid '${name}': choose one of ${Object.keys(GRIDS).join(", ")}`);
  return make(scale).filter((e) => withOptIn || e.optIn === undefined);
}

/**
 * Expand a named grid at a scale into one entry per (spec, seed); `seeds` overrides the scale's seeds. Opt-in
 * entries (the header) are left out unless `withOptIn` (scaleRuns reads them from the store that way).
 */
export function expandGrid(name: string, scale: LabScale, seeds: number[] = scale.seeds, withOptIn = false): GridRun[] {
  const entries = gridEntries(name, scale, withOptIn);
  if (seeds.length === 0) throw new Error(`grid '${name}': give at least one seed`);
  const bad = seeds.filter((s, i) => !Number.isSafeInteger(s) || seeds.indexOf(s) !== i);
  if (bad.length)
    throw new Error(
      `grid '${name}': seeds must be distinct integers, got [${seeds.join(", ")}] (${bad.join(", ")}): give each seed once`,
    );
  const out: GridRun[] = [];
  for (const e of entries) for (const seed of seeds) out.push({ ...e, spec: { ...e.spec, seed }, seed });
  return out;
}

/**
 * The group has every value of `where` (compared as text; `a|b` takes either). Own keys only: a group has no
 * `constructor`. An opt-in entry needs `where` to name its key (the header).
 */
export function groupMatches(
  e: { group: Record<string, string | number>; optIn?: string },
  where: Record<string, string | number>,
): boolean {
  return (
    (e.optIn === undefined || hasOwn(where, e.optIn)) &&
    Object.entries(where).every(([k, v]) => hasOwn(e.group, k) && String(v).split("|").includes(String(e.group[k])))
  );
}

/**
 * Check `where` against a grid's entries (opt-in ones included): every key is a group key of the grid and every
 * alternative of every value is a value some entry has. An error names the key or alternative and what exists,
 * so a typo (or a path smuggled into a value) is never silently dropped from `a|b`.
 */
function checkWhere(name: string, entries: GridEntry[], where: Record<string, string | number>): void {
  const head = `grid '${name}' has no entry whose group matches ${JSON.stringify(where)}`;
  for (const [k, v] of Object.entries(where)) {
    const values = [...new Set(entries.filter((e) => hasOwn(e.group, k)).map((e) => String(e.group[k])))];
    if (values.length === 0) {
      const keys = [...new Set(entries.flatMap((e) => Object.keys(e.group)))];
      throw new Error(`${head}: its groups have no key '${k}'; the keys are ${keys.join(", ")}`);
    }
    const missing = String(v)
      .split("|")
      .filter((alt) => !values.includes(alt));
    if (missing.length)
      throw new Error(
        `${head}: ${k} ${missing.map((m) => `'${m}'`).join(", ")} matches nothing; ${k} takes ${values.join(", ")} (a|b: either)`,
      );
  }
}

/**
 * The runs of a grid whose group has every value in `where` (compared as strings, so the CLI's text matches
 * numbers), e.g. selectGrid('calibration', scale, [1], { units: 'phonetic', budget: '1x' }). An opt-in entry is
 * kept only when `where` names its key: { budget: '16x' } selects the phonetic 16x cell, { model: 'baseline' }
 * does not. A value with `|` takes any of its alternatives: { budget: '4x', model: 'baseline|lst-aligned' } is
 * two models of the 4x cell. A key or an alternative that no entry has is an error (checkWhere), and so is an
 * empty selection.
 */
export function selectGrid(
  name: string,
  scale: LabScale,
  seeds: number[] = scale.seeds,
  where: Record<string, string | number> = {},
): GridRun[] {
  checkWhere(name, gridEntries(name, scale, true), where);
  const out = expandGrid(name, scale, seeds, true).filter((e) => groupMatches(e, where));
  if (out.length === 0) throw new Error(`grid '${name}' has no entry whose group matches ${JSON.stringify(where)}`);
  return out;
}
