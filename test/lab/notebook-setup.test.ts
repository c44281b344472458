import { test } from "node:test";
import assert from "node:assert/strict";
import path from "path";
import { notebookSetup } from "../../lib";

test("notebookSetup selects the backend, resolves the scale, prints one line and names figures <notebook>[-name]-<scale>", async () => {
  const lines: string[] = [];
  const nb = await notebookSetup("04-baseline-vs-lst", {
    scale: "smoke",
    figuresDir: "figs",
    log: (l) => lines.push(l),
  });
  assert.equal(nb.scale.name, "smoke");
  assert.ok(nb.backend.backend.length > 0);
  assert.deepEqual(lines, [nb.summary]);
  assert.match(nb.summary, /· scale smoke · figures -> figs.04-baseline-vs-lst\*-smoke\.\{png,svg,pdf\}$/);
  assert.deepEqual(
    nb.figureFiles(),
    ["png", "svg", "pdf"].map((e) => path.join("figs", `04-baseline-vs-lst-smoke.${e}`)),
  );
  assert.deepEqual(
    nb.figureFiles("static p=4"),
    ["png", "svg", "pdf"].map((e) => path.join("figs", `04-baseline-vs-lst-static-p-4-smoke.${e}`)),
  );
  assert.throws(() => nb.figureFiles(" = "), /figure name ' = ' has no letters or digits/);
});

test("notebookSetup rejects a name that is not a notebook's and an unknown scale, naming the fix", async () => {
  await assert.rejects(
    notebookSetup("baseline.ipynb", { log: () => {} }),
    /'baseline\.ipynb' is not a notebook name: pass the file name without \.ipynb/,
  );
  await assert.rejects(
    notebookSetup("04-baseline-vs-lst", { scale: "huge", log: () => {} }),
    /unknown lab scale 'huge'.*choose one of smoke, small, gpu, paper/,
  );
});
