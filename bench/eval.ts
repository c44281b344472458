/**
 * Scoring speed of the two batchings of lib/eval/batching.ts, in one run: `rows` (a fixed row count per forward,
 * each batch padded to its longest row) against `tokens` (rows padded to a few bucket lengths and grouped under a
 * padded-token budget), for the baseline and LST (static patches of 4) at the default model size (dModel 256,
 * 4 layers; LST local 128), with the mean and pmi normalisations.
 *
 * The items mimic a study's benchmark set (lib/experiment scores every item in the four directions): a quarter
 * each of S2S (a 200-300-unit prompt, endings of 40-80 units), T2T (a 60-100-token prompt, endings of 10-25),
 * T2S and S2T, 4 endings each, T2S sharing the S2S item's endings and S2T the T2T item's (pmi's unconditional
 * rows of the two then run once). Every round times both batchings on the same model, in alternating order (the
 * cores are shared, so read the ratios, per round and their median, more than the absolute speeds); wall and
 * CPU time (user + system of this process) are both reported. tokens/s counts the prompt+ending rows only
 * (pmi's unconditional rows are extra work on top); waste is the fraction of the padded positions that hold no
 * token; shapes is the number of distinct batch shapes a pass gives the backend. Both batchings run a repeated
 * row once (score.ts), so the rows run can be fewer than the rows scored (pmi: 2 per ending).
 * Run: npx tsx bench/eval.ts [--items=32] [--batch-size=16] [--rounds=3]
 */
import {
  type Batching,
  describeBackend,
  initBackend,
  scoreEndings,
  type Norm,
  type EncodedItem,
  type LmSequence,
  createModel,
  makePatcher,
  resolvePatchingConfig,
  BOS,
  SPEECH,
  TEXT,
  makeVocab,
  Rng,
} from "../lib";
import { cli } from "../lib/internal";

const vocab = makeVocab(1000, 128);
const DIRECTIONS = ["S2S", "T2T", "T2S", "S2T"] as const;

/** n tokens after `head`: speech units with a word segment every ~6 frames, or text ids. */
function tokens(rng: Rng, n: number, speech: boolean, head: number[] = []): LmSequence {
  const len = head.length + n;
  const ids = new Int32Array(len);
  const isSpeech = new Uint8Array(len);
  const wordStart = new Uint8Array(len);
  ids.set(head, 0);
  for (let i = head.length; i < len; i++) {
    ids[i] = speech ? vocab.unitOffset + rng.int(vocab.nUnits) : 10 + rng.int(vocab.unitOffset - 10);
    isSpeech[i] = speech ? 1 : 0;
    wordStart[i] = speech && (i === head.length || rng.next() < 1 / 6) ? 1 : 0;
  }
  return { ids, isSpeech, wordStart, silence: new Uint8Array(len), bpeStart: wordStart.slice() };
}

function items(n: number): EncodedItem[] {
  const rng = new Rng(7);
  const out: EncodedItem[] = [];
  for (let i = 0; i < n; i++) {
    const direction = DIRECTIONS[i % 4];
    const speechIn = direction[0] === "S";
    const speechOut = direction[2] === "S";
    // as in a study, an item's S2S and T2S forms share their (speech) endings, T2T and S2T their (text) ones
    const shared = i % 4 >= 2 ? out[i - 2] : undefined;
    out.push({
      id: `it${i}`,
      benchmark: "hs",
      direction,
      type: "t",
      tier: 0,
      label: i % 4,
      prompt: speechIn
        ? tokens(rng, 200 + rng.int(100), true, [BOS, SPEECH])
        : tokens(rng, 60 + rng.int(40), false, [BOS, TEXT]),
      endings:
        shared?.endings ??
        [0, 1, 2, 3].map(() =>
          speechOut ? tokens(rng, 40 + rng.int(40), true) : tokens(rng, 10 + rng.int(15), false),
        ),
    });
  }
  return out;
}

interface Pass {
  wall: number;
  cpu: number;
  waste: number;
  batches: number;
  shapes: number;
  /** rows run (repeated rows run once) */
  ran: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const { values } = cli({
    command: "npx tsx bench/eval.ts",
    summary:
      "Multiple-choice scoring speed, fixed-row against token-budget batching, for the baseline and LST with the mean and pmi normalisations.",
    flags: {
      items: { type: "number", default: 32, help: "items to score (a quarter in each direction)" },
      "batch-size": { type: "number", default: 16, help: "ScoreOptions.batchSize (a study's eval.batchSize is 16)" },
      rounds: { type: "number", default: 3, help: "timed rounds of both batchings" },
    },
  } as const);
  const n = values.items;
  const batchSize = values["batch-size"];
  const rounds = values.rounds;
  if (!Number.isInteger(n) || n < 4) throw new Error(`bench/eval: --items must be an integer >= 4, got ${n}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`bench/eval: --batch-size must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`bench/eval: --rounds must be a positive integer, got ${rounds}`);
  console.log(`backend: ${describeBackend(await initBackend())}`);
  const list = items(n);
  const rows = list.reduce((a, it) => a + it.endings.length, 0);
  const tokensAll = list.reduce(
    (a, it) => a + it.endings.reduce((b, e) => b + it.prompt.ids.length + e.ids.length, 0),
    0,
  );
  console.log(
    `${n} items (S2S, T2T, T2S, S2T) x 4 endings, ${(tokensAll / rows).toFixed(0)} tokens per row on average; batchSize ${batchSize}, ${rounds} rounds`,
  );
  const ratios: string[] = [];
  for (const kind of ["baseline", "lst"] as const) {
    const model = createModel({ kind, vocabSize: vocab.size, maxSeqLen: 512 });
    const patcher =
      kind === "lst"
        ? makePatcher(resolvePatchingConfig({ scheme: "static", patchSize: 4 }), { totalSteps: 1 })
        : undefined;
    await scoreEndings(model, list.slice(0, 4), { patcher, batchSize }); // warm-up (weights, first kernels)
    for (const norm of ["mean", "pmi"] as Norm[]) {
      const pass = async (batching: Batching): Promise<Pass> => {
        let real = 0;
        let padded = 0;
        let batches = 0;
        let ran = 0;
        const shapes = new Set<string>();
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        await scoreEndings(model, list, {
          patcher,
          batchSize,
          norm,
          batching,
          onBatch: (b) => {
            real += b.tokens;
            padded += b.rows * b.T;
            batches++;
            ran += b.rows;
            shapes.add(`${b.rows}x${b.T}x${b.P ?? 0}`);
          },
        });
        const c = process.cpuUsage(c0);
        const wall = (performance.now() - t0) / 1000;
        return { wall, cpu: (c.user + c.system) / 1e6, waste: 1 - real / padded, batches, shapes: shapes.size, ran };
      };
      const got: Record<Batching, Pass[]> = { rows: [], tokens: [] };
      for (let r = 0; r < rounds; r++) {
        const order: Batching[] = r % 2 === 0 ? ["rows", "tokens"] : ["tokens", "rows"];
        for (const b of order) got[b].push(await pass(b));
      }
      for (const b of ["rows", "tokens"] as Batching[]) {
        const p = got[b];
        const wall = median(p.map((x) => x.wall));
        const cpu = median(p.map((x) => x.cpu));
        console.log(
          `${kind.padEnd(8)} ${norm.padEnd(4)} ${b.padEnd(6)}  ${(n / wall).toFixed(1).padStart(6)} items/s  ${(tokensAll / wall / 1000).toFixed(1).padStart(5)} k tokens/s  (cpu ${(tokensAll / cpu / 1000).toFixed(1)} k tokens/cpu-s)  waste ${(100 * p[0].waste).toFixed(1)}%  ${p[0].batches} batches of ${p[0].ran} rows, ${p[0].shapes} shapes`,
        );
      }
      const wallRatio = got.rows.map((x, r) => x.wall / got.tokens[r].wall);
      const cpuRatio = got.rows.map((x, r) => x.cpu / got.tokens[r].cpu);
      const line = `${kind} ${norm}: tokens/rows speed ratio, wall ${median(wallRatio).toFixed(2)}x (rounds ${wallRatio.map((x) => x.toFixed(2)).join(", ")}), cpu ${median(cpuRatio).toFixed(2)}x (rounds ${cpuRatio.map((x) => x.toFixed(2)).join(", ")})`;
      console.log(line);
      ratios.push(line);
    }
    model.dispose();
  }
  console.log(`\nsummary (speed of token-budget over fixed-row batching; > 1 = faster):\n${ratios.join("\n")}`);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
