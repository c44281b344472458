/**
 * Child process for the lock tests.
 *   race <root> <counterDir> <sleepMs> <staleMs>   ensure runs r0, r1, r2 (in an order that depends on the pid) in one
 *                                                  store; execute appends the pid to <counterDir>/<run>; prints the ids
 *   hold <lockFile> <heartbeatMs> <blockMs>        take the lock, print "held", block the event loop for blockMs
 *                                                  (a busy loop, like a training step), print "blocked-done", then keep
 *                                                  the lock until killed
 */
import fs from "fs";
import path from "path";
import { RunStore } from "../../lib/experiment/runs";
import { tryLock } from "../../lib/experiment/lock";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function race(root: string, counterDir: string, sleepMs: number, staleMs: number): Promise<void> {
  const store = new RunStore(root, { pollMs: 20, staleMs, log: () => undefined });
  const names = ["r0", "r1", "r2"];
  const k = process.pid % 3;
  const order = [...names.slice(k), ...names.slice(0, k)];
  const ids: string[] = [];
  for (const name of order) {
    const rec = await store.ensure({ name, seed: 1, run: name }, name, async () => {
      fs.appendFileSync(path.join(counterDir, name), `${process.pid}\n`);
      await sleep(sleepMs);
      return { eval: { cells: [{ benchmark: "sc", direction: "S2S", n: 2, correct: 1, accuracy: 0.5, chance: 0.5 }] } };
    });
    ids.push(rec.id);
  }
  process.stdout.write(`${JSON.stringify(ids.sort())}\n`);
}

async function hold(file: string, heartbeatMs: number, blockMs: number): Promise<void> {
  const lock = tryLock(file, { heartbeatMs });
  if (!lock) throw new Error(`lock ${file} is taken`);
  process.stdout.write("held\n");
  const end = Date.now() + blockMs;
  while (Date.now() < end) {
    // a synchronous busy loop: the main thread's event loop cannot run a timer here
  }
  process.stdout.write("blocked-done\n");
  for (;;) await sleep(1000);
}

async function main(): Promise<void> {
  const [mode, ...a] = process.argv.slice(2);
  if (mode === "race") return race(a[0], a[1], Number(a[2]), Number(a[3]));
  if (mode === "hold") return hold(a[0], Number(a[1]), Number(a[2]));
  throw new Error(`unknown mode ${mode}`);
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
