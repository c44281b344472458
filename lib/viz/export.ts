/**
 * Figure export for papers: `exportFigure(fig, "out/fig.pdf")` writes PNG, SVG or vector PDF (chosen by the
 * extension), rendered by a real headless Chromium (Debian's `chromium`, driven by playwright-core) running
 * the same plotly.js bundle the notebooks use. One browser per process, started on first use (~3 s) and
 * closed by `closeExporter()` or at exit.
 *
 *   PNG   Plotly.toImage(png) at `scale` (2 = 2x pixels for print)
 *   SVG   Plotly.toImage(svg): text stays text, paths stay paths
 *   PDF   the SVG placed alone on a page of the figure's size, printed by Chromium: vector, fonts embedded
 *
 * The paper style (fonts, sizes) comes from the figure builders (paper-style.ts); `paperStyle` fills in what a
 * hand-made figure leaves open, so every exported file looks the same.
 */
import fs from "fs";
import path from "path";
import { writeFileAtomic } from "../files";
import { FONT, SIZES } from "./paper-style";
/** Any Plotly figure: the lab's builders (paper-style.ts Figure) or one written by hand. */
export interface PlotlyFigure {
  data: object[];
  layout?: object;
}
type Figure = PlotlyFigure;

export interface ExportOptions {
  /** pixels; default the layout's width/height, else 640 x 400 */
  width?: number;
  height?: number;
  /** PNG pixel scale (default 2) */
  scale?: number;
}

interface PwPage {
  setContent(html: string): Promise<void>;
  addScriptTag(o: { path: string }): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  pdf(o: { width: string; height: string; printBackground: boolean; pageRanges?: string }): Promise<Buffer>;
  close(): Promise<void>;
}
interface PwBrowser {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
}

const FORMATS = ["png", "svg", "pdf"] as const;
type Format = (typeof FORMATS)[number];

let browserPromise: Promise<PwBrowser> | null = null;

/** What to do when Chromium is missing: the system-packages step of `npm install`, or apt, or CHROMIUM_PATH. */
export const CHROMIUM_FIX =
  "run `node scripts/system-deps.mjs` as root or with sudo (what `npm install` runs), or `sudo apt-get install chromium fonts-liberation`, or set CHROMIUM_PATH to a Chromium binary";

/** Chromium cannot be found or started: inline figures go without their PNG; export fails with this. */
export class ChromiumUnavailableError extends Error {
  override name = "ChromiumUnavailableError";
}

/**
 * Where Chromium is: $CHROMIUM_PATH when set (and only there: an explicit choice is not second-guessed),
 * else Debian's /usr/bin/chromium, else `chromium` on PATH.
 */
export function chromiumPath(): string {
  const set = process.env.CHROMIUM_PATH;
  if (set) {
    if (fs.existsSync(set)) return set;
    throw new ChromiumUnavailableError(
      `headless Chromium was not found at CHROMIUM_PATH=${set} (figure export needs it): point CHROMIUM_PATH at a Chromium binary, or unset it to use the system's (\`sudo apt-get install chromium fonts-liberation\`)`,
    );
  }
  const candidates = [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    ...(process.env.PATH ?? "")
      .split(":")
      .filter(Boolean)
      .map((d) => path.join(d, "chromium")),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new ChromiumUnavailableError(`headless Chromium was not found (figure export needs it): ${CHROMIUM_FIX}`);
}

function browser(): Promise<PwBrowser> {
  if (!browserPromise) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { chromium } = require("playwright-core") as {
      chromium: { launch(o: { executablePath: string; args: string[] }): Promise<PwBrowser> };
    };
    let executablePath: string;
    try {
      executablePath = chromiumPath();
    } catch (e) {
      return Promise.reject(e);
    }
    browserPromise = chromium
      .launch({
        executablePath,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      })
      .catch((e: unknown) => {
        throw new ChromiumUnavailableError(
          `headless Chromium at ${executablePath} did not start (${e instanceof Error ? e.message.split("\n")[0] : String(e)}): ${CHROMIUM_FIX}`,
        );
      });
    browserPromise.catch(() => {
      browserPromise = null;
    });
  }
  return browserPromise;
}

/** Close the shared browser (call at the end of a script; notebooks may leave it to process exit). */
export async function closeExporter(): Promise<void> {
  const b = browserPromise;
  browserPromise = null;
  plotlyPage = null;
  if (b) await (await b).close();
}

function plotlyBundle(): string {
  return require.resolve("plotly.js-dist/plotly.js");
}

function sizeOf(fig: Figure, opts: ExportOptions): { width: number; height: number } {
  const layout = (fig.layout ?? {}) as { width?: number; height?: number };
  return { width: opts.width ?? layout.width ?? 640, height: opts.height ?? layout.height ?? 400 };
}

export type { Figure };

/**
 * The paper look for any figure, filled in where the figure leaves it open (what a builder in
 * paper-style.ts sets is kept): the lab's font, a white page and plot, one paper column (480 x 320 px).
 * e.g. paperStyle({ title: { text: "t" } }) -> { title, font: FONT, paper_bgcolor: "white", plot_bgcolor: "white", width: 480, height: 320 }
 */
export function paperStyle(layout: object = {}): Record<string, unknown> {
  const l = layout as Record<string, unknown>;
  const font = { ...FONT, ...((l.font as object | undefined) ?? {}) };
  return {
    paper_bgcolor: "white",
    plot_bgcolor: "white",
    width: SIZES.column.width,
    height: SIZES.column.height,
    ...l,
    font,
  };
}

interface PlotlyWindow {
  Plotly: {
    toImage(el: unknown, o: { format: string; width: number; height: number; scale?: number }): Promise<string>;
  };
}

let plotlyPage: Promise<PwPage> | null = null;
let queue: Promise<unknown> = Promise.resolve();

/** Run renders one at a time on the shared page (plotly.js is loaded into it once). */
function serial<T>(f: () => Promise<T>): Promise<T> {
  const next = queue.then(f, f);
  queue = next.catch(() => undefined);
  return next;
}

function readyPage(): Promise<PwPage> {
  if (!plotlyPage) {
    plotlyPage = (async () => {
      const page = await (await browser()).newPage();
      await page.setContent("<!doctype html><html><body style='margin:0'></body></html>");
      await page.addScriptTag({ path: plotlyBundle() });
      return page;
    })();
    plotlyPage.catch(() => {
      plotlyPage = null;
    });
  }
  return plotlyPage;
}

/** Render a figure in the browser: a data URL (PNG or SVG). */
function render(fig: Figure, format: "png" | "svg", opts: ExportOptions): Promise<string> {
  return serial(async () => {
    const page = await readyPage();
    const { width, height } = sizeOf(fig, opts);
    return page.evaluate(
      (a: { fig: Figure; format: string; width: number; height: number; scale: number }) =>
        (globalThis as unknown as PlotlyWindow).Plotly.toImage(
          { data: a.fig.data, layout: { ...a.fig.layout, width: a.width, height: a.height } },
          { format: a.format, width: a.width, height: a.height, scale: a.scale },
        ),
      { fig, format, width, height, scale: opts.scale ?? 2 },
    );
  });
}

/** The figure as PNG bytes (used for the PNG fallback of inline figures). */
export async function renderPng(fig: Figure, opts: ExportOptions = {}): Promise<Uint8Array> {
  const url = await render(fig, "png", opts);
  return Buffer.from(url.slice(url.indexOf(",") + 1), "base64");
}

/** The figure as SVG text, at the figure's size (`scale` is for pixels only: a 2x SVG would be twice as large). */
export async function renderSvg(fig: Figure, opts: ExportOptions = {}): Promise<string> {
  const url = await render(fig, "svg", { ...opts, scale: 1 });
  const body = url.slice(url.indexOf(",") + 1);
  return url.includes(";base64,") ? Buffer.from(body, "base64").toString("utf8") : decodeURIComponent(body);
}

/** The figure as a one-page vector PDF of the figure's size. */
export async function renderPdf(fig: Figure, opts: ExportOptions = {}): Promise<Uint8Array> {
  const svg = await renderSvg(fig, opts);
  const { width, height } = sizeOf(fig, opts);
  const page = await (await browser()).newPage();
  try {
    await page.setContent(
      `<!doctype html><html><head><style>@page{size:${width}px ${height}px;margin:0}html,body{margin:0;padding:0}svg{display:block;width:${width}px;height:${height}px}</style></head><body>${svg}</body></html>`,
    );
    return await page.pdf({ width: `${width}px`, height: `${height}px`, printBackground: true, pageRanges: "1" });
  } finally {
    await page.close();
  }
}

/** Write `fig` to `file` as PNG, SVG or PDF by its extension (atomically; folders are created). */
export async function exportFigure(fig: Figure, file: string, opts: ExportOptions = {}): Promise<string> {
  const ext = path.extname(file).slice(1).toLowerCase() as Format;
  if (!FORMATS.includes(ext))
    throw new Error(`exportFigure: cannot write '${file}': the extension must be one of .${FORMATS.join(", .")}`);
  if (!fig || !Array.isArray(fig.data))
    throw new Error(`exportFigure: '${file}': the figure must be a Plotly figure object { data: [...], layout }`);
  const styled = { data: fig.data, layout: paperStyle(fig.layout) };
  let bytes: Uint8Array | string;
  try {
    bytes =
      ext === "png"
        ? await renderPng(styled, opts)
        : ext === "svg"
          ? await renderSvg(styled, opts)
          : await renderPdf(styled, opts);
  } catch (e) {
    if (e instanceof ChromiumUnavailableError)
      throw new ChromiumUnavailableError(`exportFigure: cannot write '${file}': ${e.message}`);
    throw e;
  }
  writeFileAtomic(file, bytes);
  return file;
}
