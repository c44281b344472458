/**
 * Child process for the run-store concurrency test: ensure one run whose execute records its pid in a counter
 * file, then waits, then returns a tiny EvalResult; prints the run id and the counter path as JSON.
 * Usage: node --import tsx test/lab/run-child.ts <root> <counterFile> <sleepMs>
 */
import fs from "fs";
import { RunStore } from "../../lib/experiment/runs";

async function main(): Promise<void> {
  const [root, counter, sleepMs] = process.argv.slice(2);
  const store = new RunStore(root, { pollMs: 50 });
  const cfg = { name: "shared", seed: 3, lr: 0.001 };
  const rec = await store.ensure(cfg, "shared", async () => {
    fs.appendFileSync(counter, `${process.pid}\n`);
    await new Promise((r) => setTimeout(r, Number(sleepMs)));
    return { eval: { cells: [{ benchmark: "sc", direction: "S2S", n: 2, correct: 1, accuracy: 0.5, chance: 0.5 }] } };
  });
  process.stdout.write(JSON.stringify({ id: rec.id, rows: rec.rows.length }) + "\n");
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
