/**
 * Headless notebooks through the real tslab kernel code: tslab's own converter (its TypeScript 5.0) and
 * executor run each code cell in order, in this process, with the project root as the working directory
 * and rootDir (as the `lst-lab` kernelspec does), so cells import the library as `./lib`.
 *
 * Outputs are captured into nbformat 4 outputs the way the kernel would send them:
 *   process.stdout / stderr writes   -> `stream` outputs (stdout / stderr)
 *   tslab.display.* and showFigure   -> `display_data` (tslab's `lastWriteDisplayData` hook; a bundle of
 *                                       several mime types, e.g. Plotly JSON + PNG, stays one output)
 *   a failed cell                    -> an `error` output; the run stops there, as Jupyter's "run all" does
 * tslab reports a failure only as text on its console and a `false` from `execute`, so the error text is
 * what the executor printed for that cell.
 *
 * Internal tslab modules are used (pinned: tslab 1.0.22 exactly, see package.json).
 */
import fs from "fs";
import util from "util";

export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}

export type NotebookOutput =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string }
  | { output_type: "display_data"; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export interface CellFailure {
  /** 1-based number of the cell in the notebook (markdown cells counted) */
  cell: number;
  error: string;
}

export interface NotebookRun {
  notebook: Notebook;
  failure: CellFailure | null;
  seconds: number;
}

interface TslabExecutor {
  execute(src: string): Promise<boolean>;
  close(): void;
}

interface DisplayData {
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/** Read a notebook file, with a clear error when it is not an nbformat 4 notebook. */
export function readNotebook(file: string): Notebook {
  let nb: Notebook;
  try {
    nb = JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
  } catch (e) {
    throw new Error(`notebook ${file} cannot be read as JSON (${(e as Error).message}): is it an .ipynb file?`);
  }
  if (nb.nbformat !== 4 || !Array.isArray(nb.cells))
    throw new Error(`notebook ${file} is not nbformat 4 (nbformat ${nb.nbformat}): re-save it with Jupyter`);
  return nb;
}

const sourceOf = (c: NotebookCell) => (Array.isArray(c.source) ? c.source.join("") : c.source);

/** Append text to the last stream output of the same name (Jupyter merges consecutive writes). */
function pushStream(outputs: NotebookOutput[], name: "stdout" | "stderr", text: string): void {
  const last = outputs[outputs.length - 1];
  if (last && last.output_type === "stream" && last.name === name) last.text += text;
  else outputs.push({ output_type: "stream", name, text });
}

/**
 * Execute a notebook top to bottom in this process. `cwd` becomes the working directory and tslab's rootDir.
 * Stops at the first failing cell; the returned notebook holds the outputs of every cell run so far.
 */
export async function runNotebook(
  nb: Notebook,
  opts: { cwd: string; onCell?: (n: number, total: number) => void },
): Promise<NotebookRun> {
  const t0 = Date.now();
  const prevCwd = process.cwd();
  process.chdir(opts.cwd);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { createConverter } = require("tslab/dist/converter") as {
    createConverter: (o: { isJS: boolean; isBrowser: boolean }) => { close(): void };
  };
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { createExecutor } = require("tslab/dist/executor") as {
    createExecutor: (root: string, convs: unknown, console: unknown) => TslabExecutor;
  };
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const jupyter = require("tslab/dist/jupyter") as {
    lastWriteDisplayData: ((d: DisplayData, update: boolean) => void) | null;
  };
  // A headless run compiles each cell once against files that do not change under it: tslab's watch host
  // would otherwise see an unrelated file write (an editor, a build) as a pending rebuild and fail the
  // next cell with "Unexpected pending rebuildTimer".
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tsSys = (require("@tslab/typescript-for-tslab") as { sys: Record<string, unknown> }).sys;
  const noWatch = () => ({ close: () => undefined });
  tsSys.watchFile = noWatch;
  tsSys.watchDirectory = noWatch;
  const node = createConverter({ isJS: false, isBrowser: false });
  let browser: { close(): void } | null = null;
  const convs = {
    node,
    get browser() {
      browser = browser ?? createConverter({ isJS: false, isBrowser: true });
      return browser;
    },
    close() {
      node.close();
      browser?.close();
    },
  };
  let outputs: NotebookOutput[] = [];
  let errorText = "";
  const format = (args: unknown[]) => util.format(...args);
  const executor = createExecutor(opts.cwd, convs, {
    log: (...args: unknown[]) => pushStream(outputs, "stdout", `${format(args)}\n`),
    error: (...args: unknown[]) => {
      const text = `${format(args)}\n`;
      errorText += text;
      pushStream(outputs, "stderr", text);
    },
  });
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const cells = nb.cells.map((c) => ({ ...c }));
  let failure: CellFailure | null = null;
  let count = 0;
  try {
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i];
      if (cell.cell_type !== "code") continue;
      opts.onCell?.(i + 1, cells.length);
      outputs = [];
      errorText = "";
      jupyter.lastWriteDisplayData = (d) =>
        outputs.push({ output_type: "display_data", data: d.data, metadata: d.metadata ?? {} });
      process.stdout.write = ((chunk: string | Uint8Array) => (
        pushStream(outputs, "stdout", chunk.toString()),
        true
      )) as typeof process.stdout.write;
      process.stderr.write = ((chunk: string | Uint8Array) => (
        pushStream(outputs, "stderr", chunk.toString()),
        true
      )) as typeof process.stderr.write;
      let ok: boolean;
      try {
        ok = await executor.execute(sourceOf(cell));
      } catch (e) {
        ok = false;
        errorText += (e as Error).stack ?? String(e);
      } finally {
        process.stdout.write = out;
        process.stderr.write = err;
        jupyter.lastWriteDisplayData = null;
      }
      cell.execution_count = ++count;
      if (!ok) {
        const text = errorText.trim() || "the cell failed without an error message";
        // drop the stack frames of the machinery under the cell (vm, tslab, this runner): they are the same for every error
        const lines = text
          .split("\n")
          .filter(
            (l) => !/^\s+at .*(node:vm|node:internal|tslab\/dist\/|notebook-runner\.ts|scripts\/notebooks\.ts)/.test(l),
          );
        // the most telling line: "Error: ..." of a throw, or the first compiler diagnostic
        const headline = lines.find((l) => /^\w*(Error|Exception)\b/.test(l)) ?? lines[0];
        outputs.push({ output_type: "error", ename: "CellError", evalue: headline, traceback: lines });
        const shown = lines.join("\n");
        failure = { cell: i + 1, error: headline === lines[0] ? shown : `${headline}\n${shown}` };
      }
      cell.outputs = outputs;
      if (failure) break;
    }
  } finally {
    executor.close();
    convs.close();
    process.chdir(prevCwd);
  }
  return { notebook: { ...nb, cells }, failure, seconds: (Date.now() - t0) / 1000 };
}
