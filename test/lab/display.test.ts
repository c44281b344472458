import { test, after } from "node:test";
import assert from "node:assert/strict";
import { showAudio, showFigure, showTable } from "../../lib/viz/display";
import { closeExporter } from "../../lib/viz/export";

after(() => closeExporter());

type Bundle = { data: Record<string, unknown> };
const jupyter = require("tslab/dist/jupyter") as {
  lastWriteDisplayData: ((d: Bundle, update: boolean) => void) | null;
};

/** Run `f` as if inside the tslab kernel: collect what it displays. */
async function inKernel(f: () => unknown): Promise<Bundle[]> {
  const shown: Bundle[] = [];
  jupyter.lastWriteDisplayData = (d) => void shown.push(d);
  try {
    await f();
  } finally {
    jupyter.lastWriteDisplayData = null;
  }
  return shown;
}

/** Run `f` outside the kernel: collect console.log lines. */
async function outside(f: () => unknown): Promise<string[]> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    await f();
  } finally {
    console.log = log;
  }
  return lines;
}

const fig = {
  data: [{ type: "bar", x: ["a", "b"], y: [1, 2] }],
  layout: { width: 300, height: 200, title: { text: "bars" } },
};

test("outside the kernel the display helpers print a text summary", async () => {
  assert.deepEqual(await outside(() => showFigure(fig)), ["<Plotly figure: bars, 1 trace(s)>"]);
  assert.deepEqual(await outside(() => showTable([{ a: 1, b: "x" }])), ["a  b\n1  x"]);
  assert.deepEqual(await outside(() => showAudio(new Float32Array(8000), 16000)), ["<audio: 0.50 s at 16000 Hz>"]);
});

test("in the kernel a figure is one output with Plotly JSON, a PNG and text", async () => {
  const shown = await inKernel(() => showFigure(fig));
  assert.equal(shown.length, 1);
  assert.deepEqual(Object.keys(shown[0].data).sort(), ["application/vnd.plotly.v1+json", "image/png", "text/plain"]);
  assert.deepEqual(shown[0].data["application/vnd.plotly.v1+json"], fig);
  assert.equal(Buffer.from(String(shown[0].data["image/png"]), "base64").subarray(1, 4).toString(), "PNG");
});

test("in the kernel audio is an HTML player with a WAV data URL", async () => {
  const shown = await inKernel(() => showAudio(new Float32Array(160), 16000));
  // "UklGR" is base64 of "RIFF", the start of a WAV file
  assert.match(String(shown[0].data["text/html"]), /^<audio controls src="data:audio\/wav;base64,UklGR/);
});
