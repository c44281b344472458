import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { exportFigure, closeExporter, paperStyle } from "../../lib/viz/export";
import { FONT } from "../../lib/viz/paper-style";
import { tableHtml } from "../../lib/viz/display";

after(() => closeExporter());

const fig = {
  data: [{ type: "bar" as const, name: "acc", x: ["baseline", "lst"], y: [0.5, 0.7] }],
  layout: { width: 400, height: 300, title: { text: "test" } },
};

test("figures export to PNG, SVG and vector PDF by extension", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lst-fig-"));
  try {
    const png = fs.readFileSync(await exportFigure(fig, path.join(dir, "a.png")));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.readUInt32BE(16), 800); // width at the default 2x scale
    const svg = fs.readFileSync(await exportFigure(fig, path.join(dir, "sub", "a.svg")), "utf8");
    assert.match(svg, /^<svg/);
    assert.match(svg, /^<svg[^>]* width="400" height="300"/); // the figure's size, whatever the PNG scale
    assert.match(svg, /baseline/);
    const pdf = fs.readFileSync(await exportFigure(fig, path.join(dir, "a.pdf")));
    assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
    // one page of the figure's size: 400 x 300 px = 300 x 225 pt (the SVG fills it, not clipped at 2x)
    const box = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(pdf.toString("latin1"));
    assert.ok(box && Math.abs(Number(box[1]) - 300) < 1 && Math.abs(Number(box[2]) - 225) < 1, `page size ${box?.[0]}`);
    // vector: no raster image XObject in the page
    assert.ok(!pdf.toString("latin1").includes("/Subtype /Image"), "the PDF embeds a raster image");
    await assert.rejects(exportFigure(fig, path.join(dir, "a.jpg")), /extension must be one of \.png, \.svg, \.pdf/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("tables render as HTML and aligned text from rows or a danfo-like frame", () => {
  const t = tableHtml([
    { model: "lst", acc: 0.71234 },
    { model: "baseline<b>", acc: 0.5 },
  ]);
  assert.match(t.html, /<th>model<\/th><th>acc<\/th>/);
  assert.match(t.html, /baseline&lt;b&gt;/);
  assert.match(t.text, /lst +0\.7123/);
  const f = tableHtml({ columns: ["a", "b"], values: [[1, "x"]] });
  assert.match(f.html, /<td>1<\/td><td>x<\/td>/);
});

test("paperStyle fills in the paper look and keeps what the figure sets", () => {
  assert.deepEqual(paperStyle({ title: { text: "t" } }), {
    title: { text: "t" },
    font: FONT,
    paper_bgcolor: "white",
    plot_bgcolor: "white",
    width: 480,
    height: 320,
  });
  const kept = paperStyle({ width: 900, font: { size: 20 }, plot_bgcolor: "#eee" });
  assert.deepEqual([kept.width, kept.height, kept.plot_bgcolor, kept.font], [900, 320, "#eee", { ...FONT, size: 20 }]);
});
