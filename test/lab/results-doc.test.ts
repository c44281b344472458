/**
 * `npm run results` at the smoke scale: the default grid's 3 runs (seed 1) trained into a temporary store, then
 * the command itself (scripts/results.ts) writes the figures of every section those runs reach and the generated
 * block of a document; its printed file list is checked against the files and against the sections it should reach.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { initBackend } from "../../lib/backend";
import { labScale } from "../../lib/experiment/experiment";
import { runGrid } from "../../lib/experiment/grid-study";
import { readBlock } from "../../lib/experiment/results-doc";

const ROOT = path.resolve(__dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lst-results-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

before(async () => {
  await initBackend({});
  await runGrid("default", { scale: labScale("smoke"), seeds: [1], runsRoot: path.join(tmp, "runs") });
});

test("npm run results at the smoke scale: the figure list it prints is the files it wrote, section by section", () => {
  const doc = path.join(tmp, "results.md");
  const readme = path.join(tmp, "README.md");
  const summary = "<!-- summary begin -->\nold\n<!-- summary end -->";
  fs.writeFileSync(
    doc,
    `# results\n\n${summary}\n\n<!-- results:tab3:smoke begin -->\nold\n<!-- results:tab3:smoke end -->\n`,
  );
  fs.writeFileSync(readme, `# lab\n\n${summary}\n`);
  const figures = path.join(tmp, "figures");
  const out = execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "scripts/results.ts",
      "--scale=smoke",
      `--runs=${path.join(tmp, "runs")}`,
      `--figures=${figures}`,
      `--doc=${doc}`,
      `--readme=${readme}`,
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, LST_SCALE: "smoke" } },
  );
  const listed = out
    .split("\n")
    .slice(out.split("\n").findIndex((l) => /^wrote \d+ figures:/.test(l)) + 1)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  // the default grid's baseline, LST static and LST curriculum are also the 1:2 cell of mixRatio, the compute
  // cell of budget, p = 4 of patchSize, the default schedule, the smoke size of scaling, the acoustic 1x cell of
  // calibration and two of textPath's three entries, and (the smoke data's text BPE is no larger than the
  // alignment grid's 500) LST curriculum is its word entry; findings are measured where both cells are among them
  const expected = [
    "tab3-smoke-accuracy.png",
    "tab3-smoke-findings.png",
    "tab4-smoke-accuracy.png",
    "tab6-smoke-accuracy.png",
    "tab10-smoke-accuracy.png",
    "curriculum-smoke-accuracy.png",
    "fig6-smoke-accuracy.png",
    "fig6-smoke-findings.png",
    "fig4-smoke-accuracy.png",
    "phonetic-smoke-accuracy.png",
    "textpath-smoke-accuracy.png",
  ].map((f) => path.join(figures, f));
  assert.deepEqual(listed, expected, out);
  assert.deepEqual(fs.readdirSync(figures).sort(), expected.map((f) => path.basename(f)).sort());
  for (const f of expected) {
    const png = fs.readFileSync(f);
    assert.ok(png.length > 1000 && png.subarray(1, 4).toString() === "PNG", `${f} is a PNG`);
  }
  const block = readBlock(fs.readFileSync(doc, "utf8"), "results:tab3:smoke") ?? "";
  assert.match(block, /Scale `smoke`: 3 runs in the store \(seeds 1\)/);
  assert.match(block, /\| baseline \| 1 \| \d+ \|/);
  assert.match(block, /`default:lst-static>baseline:hs-S2S`/);
  assert.match(block, /!\[tab3-smoke-findings\.png\]\(figures\/tab3-smoke-findings\.png\)/);
  // the summary block of both files is rolled up from the document's verdict rows
  assert.match(readBlock(fs.readFileSync(doc, "utf8"), "summary") ?? "", /\| 7\.1 model type/);
  assert.equal(
    readBlock(fs.readFileSync(readme, "utf8"), "summary"),
    readBlock(fs.readFileSync(doc, "utf8"), "summary")?.replace(/\]\(#/g, "](results.md#"),
  );
});
