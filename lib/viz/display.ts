/**
 * Inline display in notebooks (the tslab kernel), with a plain-text fallback anywhere else (a script, a
 * test), so library code can call these freely.
 *
 *   await showFigure(fig)     one output holding the Plotly JSON (interactive in JupyterLab, whose plotly
 *                             renderer shows the PNG until the pointer enters the figure), a PNG rendered
 *                             by headless Chromium (for nbconvert, GitHub and other viewers) and a text line;
 *                             without Chromium, the same output less the PNG, and one warning per process
 *   showTable(rows | df)      an HTML table (+ text); takes row objects or a danfo DataFrame
 *   showAudio(samples, sr)    an audio player (16-bit WAV data URL)
 *   showHtml(html)            raw HTML
 *
 * A multi-mime bundle is sent through tslab's `lastWriteDisplayData` hook (the one its `display.raw`
 * uses; that API sends a single mime type per output). Outside the kernel the hook is null.
 */
import { writeWav } from "../audio/wav";
import { ChromiumUnavailableError, renderPng, type Figure } from "./export";

type WriteDisplay = (
  d: { data: Record<string, unknown>; metadata: Record<string, unknown>; transient: Record<string, unknown> },
  update: boolean,
) => void;

function kernelHook(): WriteDisplay | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require("tslab/dist/jupyter") as { lastWriteDisplayData: WriteDisplay | null }).lastWriteDisplayData;
  } catch {
    return null;
  }
}

/** Send one display_data output with several mime types; outside the kernel print the text/plain part. */
export function displayBundle(data: Record<string, unknown>): void {
  const hook = kernelHook();
  if (hook) hook({ data, metadata: {}, transient: {} }, false);
  else console.log(String(data["text/plain"] ?? ""));
}

let warnedNoPng = false;

/** The PNG fallback of an inline figure, or null (with one warning per process) when Chromium is unavailable. */
async function pngFallback(fig: Figure): Promise<string | null> {
  try {
    return Buffer.from(await renderPng(fig, { scale: 1 })).toString("base64");
  } catch (e) {
    if (!(e instanceof ChromiumUnavailableError)) throw e;
    if (!warnedNoPng)
      console.warn(
        `warning: inline figures are shown without their PNG fallback (JupyterLab still draws them; nbconvert and GitHub will not): ${e.message}`,
      );
    warnedNoPng = true;
    return null;
  }
}

export async function showFigure(fig: Figure, opts: { png?: boolean } = {}): Promise<void> {
  const layout = (fig.layout ?? {}) as { title?: { text?: string } | string };
  const title = typeof layout.title === "string" ? layout.title : (layout.title?.text ?? "figure");
  const data: Record<string, unknown> = {
    "application/vnd.plotly.v1+json": { data: fig.data, layout: fig.layout ?? {} },
    "text/plain": `<Plotly figure: ${title}, ${fig.data.length} trace(s)>`,
  };
  const png = opts.png !== false && kernelHook() ? await pngFallback(fig) : null;
  if (png) data["image/png"] = png;
  displayBundle(data);
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface FrameLike {
  columns: string[];
  values: unknown[][];
}

function isFrame(x: unknown): x is FrameLike {
  return (
    typeof x === "object" &&
    x !== null &&
    Array.isArray((x as FrameLike).columns) &&
    Array.isArray((x as FrameLike).values)
  );
}

function cellText(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Row objects (or a danfo DataFrame) as column names + rows of cell strings. */
export function tableCells(
  table: readonly object[] | FrameLike,
  maxRows = 200,
): { columns: string[]; rows: string[][]; more: number } {
  if (isFrame(table)) {
    return {
      columns: table.columns,
      rows: table.values.slice(0, maxRows).map((r) => r.map(cellText)),
      more: Math.max(0, table.values.length - maxRows),
    };
  }
  const rows = table as readonly Record<string, unknown>[];
  const columns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  return {
    columns,
    rows: rows.slice(0, maxRows).map((r) => columns.map((c) => cellText(r[c]))),
    more: Math.max(0, rows.length - maxRows),
  };
}

/** The table as HTML and as aligned text. */
export function tableHtml(table: readonly object[] | FrameLike, maxRows = 200): { html: string; text: string } {
  const { columns, rows, more } = tableCells(table, maxRows);
  const head = columns.map((c) => `<th>${esc(c)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join("")}</tr>`).join("\n");
  const note = more ? `<p><i>… ${more} more rows</i></p>` : "";
  const html = `<table class="dataframe"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>${note}`;
  const widths = columns.map((c, j) => Math.max(c.length, ...rows.map((r) => r[j].length)));
  const line = (cells: string[]) => cells.map((v, j) => v.padEnd(widths[j])).join("  ");
  const text = [line(columns), ...rows.map(line), ...(more ? [`… ${more} more rows`] : [])].join("\n");
  return { html, text };
}

export function showTable(table: readonly object[] | FrameLike, opts: { maxRows?: number } = {}): void {
  const { html, text } = tableHtml(table, opts.maxRows);
  displayBundle({ "text/html": html, "text/plain": text });
}

/** An audio player for mono samples in [-1, 1] (or the bytes of a WAV file). */
export function showAudio(audio: Float32Array | Uint8Array, sampleRate = 16000): void {
  const wav = audio instanceof Float32Array ? writeWav(audio, sampleRate) : audio;
  const seconds = audio instanceof Float32Array ? (audio.length / sampleRate).toFixed(2) : "?";
  const src = `data:audio/wav;base64,${Buffer.from(wav).toString("base64")}`;
  displayBundle({
    "text/html": `<audio controls src="${src}"></audio>`,
    "text/plain": `<audio: ${seconds} s at ${sampleRate} Hz>`,
  });
}

export function showHtml(html: string): void {
  displayBundle({
    "text/html": html,
    "text/plain": html
      .replace(/<[^>]+>/g, " ")
      .replace(/\s+/g, " ")
      .trim()
      .slice(0, 500),
  });
}
