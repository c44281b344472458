/**
 * A machine without Chromium: inline figures still display (Plotly JSON, no PNG fallback, one warning for
 * the whole notebook), and exportFigure fails with the fix. Chromium is hidden with CHROMIUM_PATH pointing
 * at a file that does not exist; the figure cells run through the headless notebook runner (tslab's kernel
 * code), as `npm run notebooks` runs them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { readNotebook, type Notebook } from "../../lib/tooling/notebook-runner";
import { ChromiumUnavailableError, chromiumPath } from "../../lib/viz/export";

const ROOT = path.resolve(__dirname, "..", "..");

function notebook(cells: string[]): Notebook {
  return {
    cells: cells.map((source) => ({ cell_type: "code", metadata: {}, source, outputs: [], execution_count: null })),
    metadata: { kernelspec: { name: "lst-lab", display_name: "LST Lab (TypeScript)", language: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

test("CHROMIUM_PATH pointing nowhere is an error naming the path and the fix", () => {
  const saved = process.env.CHROMIUM_PATH;
  process.env.CHROMIUM_PATH = path.join(os.tmpdir(), "lst-no-such-chromium");
  try {
    assert.throws(
      () => chromiumPath(),
      (e: unknown) =>
        e instanceof ChromiumUnavailableError &&
        /CHROMIUM_PATH=.*lst-no-such-chromium/.test(e.message) &&
        /apt-get install chromium fonts-liberation/.test(e.message),
    );
  } finally {
    if (saved === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = saved;
  }
});

test("without Chromium a figure cell shows the Plotly figure without PNG, warns once, and exportFigure fails with the fix", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lst-nochromium-"));
  const png = path.join(dir, "fig.png");
  try {
    const nb = notebook([
      `import * as lab from "./lib";\nconst fig = { data: [{ type: "bar", x: ["a", "b"], y: [1, 2] }], layout: { title: { text: "bars" } } };`,
      "await lab.showFigure(fig);",
      "await lab.showFigure(fig);",
      `await lab.exportFigure(fig, ${JSON.stringify(png)});`,
    ]);
    fs.writeFileSync(path.join(dir, "figures.ipynb"), JSON.stringify(nb));
    const env = { ...process.env, CHROMIUM_PATH: path.join(dir, "no-chromium") };
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        path.join(ROOT, "scripts", "notebooks.ts"),
        "--dir",
        dir,
        "--out",
        path.join(dir, "out"),
        "figures",
      ],
      { cwd: ROOT, env, encoding: "utf8" },
    );
    // the run fails at the export cell (4), and only there, with the fix in the message
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /figures\.ipynb cell 4: .*exportFigure: cannot write '.*fig\.png': headless Chromium was not found/,
    );
    assert.match(r.stderr, /apt-get install chromium fonts-liberation/);
    assert.equal(fs.existsSync(png), false);

    const cells = readNotebook(path.join(dir, "out", "figures.ipynb")).cells;
    for (const n of [1, 2]) {
      const shown = (cells[n].outputs ?? []).filter((o) => o.output_type === "display_data");
      assert.equal(shown.length, 1, `cell ${n + 1}: ${JSON.stringify(cells[n].outputs)}`);
      const data = shown[0].output_type === "display_data" ? shown[0].data : {};
      assert.deepEqual(Object.keys(data).sort(), ["application/vnd.plotly.v1+json", "text/plain"]);
    }
    const warnings = cells
      .slice(0, 3)
      .flatMap((c) => c.outputs ?? [])
      .filter((o) => o.output_type === "stream" && o.name === "stderr");
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    const text = warnings[0].output_type === "stream" ? warnings[0].text : "";
    assert.match(text, /without their PNG fallback/);
    assert.equal(text.match(/warning:/g)?.length, 1);
    assert.match(JSON.stringify(cells[1].outputs), /warning: inline figures/); // on the first figure, not later
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
