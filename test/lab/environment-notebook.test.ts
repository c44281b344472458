import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";
import { readNotebook } from "../../lib/tooling/notebook-runner";

const ROOT = path.resolve(__dirname, "..", "..");

// The notebook itself writes data/figures/00-environment-<scale>.* (git-ignored output, as `npm run notebooks` does);
// its executed copy goes to a temp dir.
test("00-environment runs headless: an inline figure with Plotly JSON and a PNG, and the three exported files", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "lst-nb00-"));
  const started = Date.now() - 1000;
  try {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "scripts", "notebooks.ts"), "00-environment", "--out", out],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const nb = readNotebook(path.join(out, "00-environment.ipynb"));
    const displays = nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === "display_data");
    const figure = displays.find((o) => o.output_type === "display_data" && "application/vnd.plotly.v1+json" in o.data);
    assert.ok(figure && figure.output_type === "display_data", "no display_data with a Plotly figure");
    assert.ok("image/png" in figure.data, "the Plotly output has no PNG fallback in the same bundle");
    assert.ok(Buffer.from(String(figure.data["image/png"]), "base64").subarray(1, 4).toString() === "PNG");
    assert.ok(
      displays.some(
        (o) =>
          o.output_type === "display_data" &&
          /<audio controls src="data:audio\/wav;base64,/.test(String(o.data["text/html"])),
      ),
    );
    for (const ext of ["png", "svg", "pdf"]) {
      const file = path.join(ROOT, "data", "figures", `00-environment-${process.env.LST_SCALE ?? "smoke"}.${ext}`);
      assert.ok(fs.existsSync(file), `${file} was not written`);
      assert.ok(fs.statSync(file).mtimeMs >= started, `${file} is older than this run`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
