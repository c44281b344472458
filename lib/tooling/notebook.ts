/**
 * The preamble every notebook runs in its first code cell: `const nb = await lab.notebookSetup("04-baseline-vs-lst")`.
 * It selects the backend and prints its one-line report with the scale, and returns what the cells need:
 * the backend's report, the lab scale (LST_SCALE, else 'small') and `nb.figure(fig, name?)`, which shows a
 * figure inline and exports it for the paper as `<figures>/<notebook>[-name]-<scale>.{png,svg,pdf}` (the
 * scale in the name keeps a smoke run in CI from overwriting a small one).
 */
import path from "path";
import { initBackend, describeBackend, type BackendReport } from "../backend";
import { figuresDir } from "../paths";
import { labScale, type LabScale } from "../experiment/experiment";
import { showFigure } from "../viz/display";
import { exportFigure } from "../viz/export";
import type { PlotlyFigure as Figure } from "../viz/export";

/** The formats every shown figure is exported in. */
export const NOTEBOOK_FIGURE_FORMATS = ["png", "svg", "pdf"] as const;

export interface NotebookSetupOptions {
  /** The scale's name; default LST_SCALE, else 'small'. */
  scale?: string;
  /** A backend to force; default LST_BACKEND, else the best available. */
  backend?: string;
  /** Where figures go; default `figuresDir()` (<data root>/figures). */
  figuresDir?: string;
  /** Where the one-line report goes; default console.log. */
  log?: (line: string) => void;
}

export interface NotebookSetup {
  /** The notebook's name, e.g. `04-baseline-vs-lst`. */
  notebook: string;
  backend: BackendReport;
  scale: LabScale;
  /** The one line printed: backend, scale and where figures go. */
  summary: string;
  /** The files a figure named `name` (made file-name safe; none: the notebook's main figure) is exported to. */
  figureFiles(name?: string): string[];
  /** Show `fig` inline and export it to `figureFiles(name)`; the cell shows the figure and nothing else. */
  figure(fig: Figure, name?: string): Promise<void>;
}

const NOTEBOOK_NAME = /^\d\d-[a-z0-9]+(-[a-z0-9]+)*$/;
/** A figure's name as a file-name part: lower case, every run of other characters one '-' ("static p=4" -> "static-p-4"). */
function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (!s) throw new Error(`figure name '${name}' has no letters or digits: name it in words, e.g. 'loss curves'`);
  return s;
}

/** Select the backend, resolve the scale and print one line; the first code cell of every notebook calls it. */
export async function notebookSetup(notebook: string, opts: NotebookSetupOptions = {}): Promise<NotebookSetup> {
  if (!NOTEBOOK_NAME.test(notebook)) {
    throw new Error(
      `notebookSetup: '${notebook}' is not a notebook name: pass the file name without .ipynb, e.g. '04-baseline-vs-lst'`,
    );
  }
  const scale = labScale(opts.scale);
  const backend = await initBackend(opts.backend ? { backend: opts.backend } : {});
  const dir = opts.figuresDir ?? figuresDir();
  const figureFiles = (name?: string): string[] => {
    const stem = `${notebook}${name === undefined ? "" : `-${slug(name)}`}-${scale.name}`;
    return NOTEBOOK_FIGURE_FORMATS.map((ext) => path.join(dir, `${stem}.${ext}`));
  };
  const pattern = path.join(dir, `${notebook}*-${scale.name}.{${NOTEBOOK_FIGURE_FORMATS.join(",")}}`);
  const summary = `${describeBackend(backend)} · scale ${scale.name} · figures -> ${pattern}`;
  (opts.log ?? ((line: string) => console.log(line)))(summary);
  const figure = async (fig: Figure, name?: string): Promise<void> => {
    const files = figureFiles(name);
    await showFigure(fig);
    for (const f of files) await exportFigure(fig, f);
  };
  return { notebook, backend, scale, summary, figureFiles, figure };
}
