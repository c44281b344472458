/**
 * A run's training curves in formats other tools read: a flat CSV (pandas, R, spreadsheets) and TensorBoard
 * event files. Both come from the run dir's metrics.jsonl (one StepMetrics per line, see train.ts).
 *
 * CSV: one row per step, one column per scalar; nested fields are flattened with dots (`rawTokens.speech`,
 * `eval.hs_tt`). A missing or non-finite value (a batch without speech has lossSpeech NaN, stored as null in
 * JSON) is an empty cell, which `pandas.read_csv` reads as NaN. Numbers are written in JS's shortest
 * round-trip form, so the CSV holds exactly the logged values.
 *
 * TensorBoard: every column except `step` becomes a scalar series (tags as the CSV's column names, with `/`
 * for the dots so TensorBoard groups them: `rawTokens/speech`, `eval/hs_tt`). On the native `tensorflow`
 * backend the file is written by tfjs-node's `tf.node.summaryFileWriter`; elsewhere by the lab's own event
 * writer (tfevents.ts), which TensorBoard reads the same way.
 */
import fs from "fs";
import path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { writeScalarEvents } from "./tfevents";

/** One flat row per metrics line: dotted keys -> number (NaN for null and non-numbers). */
export function flattenMetrics(lines: readonly Record<string, unknown>[]): {
  columns: string[];
  rows: Record<string, number>[];
} {
  const columns: string[] = [];
  const seen = new Set<string>();
  const rows = lines.map((line) => {
    const row: Record<string, number> = {};
    const walk = (o: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(o)) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (v !== null && typeof v === "object" && !Array.isArray(v)) {
          walk(v as Record<string, unknown>, key);
          continue;
        }
        if (!seen.has(key)) {
          seen.add(key);
          columns.push(key);
        }
        row[key] = typeof v === "number" ? v : NaN;
      }
    };
    walk(line, "");
    return row;
  });
  return { columns, rows };
}

/** Read a run dir's metrics.jsonl (throws naming the file when it is missing or a line is not JSON). */
export function readMetricsLines(runDir: string): Record<string, unknown>[] {
  const file = path.join(runDir, "metrics.jsonl");
  if (!fs.existsSync(file))
    throw new Error(`${file} does not exist: pass a run dir that train() wrote (it holds metrics.jsonl)`);
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l, i) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${file} line ${i + 1} is not JSON (${(e as Error).message}): the file is damaged`);
      }
    });
}

/** CSV text of flat metric rows (header, then one line per row; empty cell = NaN). */
export function metricsCsv(lines: readonly Record<string, unknown>[]): string {
  const { columns, rows } = flattenMetrics(lines);
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const out = [columns.map(quote).join(",")];
  for (const r of rows) out.push(columns.map((c) => (Number.isFinite(r[c]) ? String(r[c]) : "")).join(","));
  return `${out.join("\n")}\n`;
}

/** Write `<runDir>/metrics.csv` (or `file`) from the run's metrics.jsonl; returns the path. */
export function writeMetricsCsv(runDir: string, file = path.join(runDir, "metrics.csv")): string {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, metricsCsv(readMetricsLines(runDir)));
  fs.renameSync(tmp, file);
  return file;
}

interface NodeSummaryWriter {
  scalar(name: string, value: number, step: number): void;
  flush(): void;
}

/** tfjs-node's summary writer when the native backend runs (it needs the `tensorflow` backend), else null. */
function nodeSummaryWriter(logDir: string): NodeSummaryWriter | null {
  if (tf.getBackend() !== "tensorflow") return null;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const node = (require("@tensorflow/tfjs-node") as { node: { summaryFileWriter(dir: string): NodeSummaryWriter } })
      .node;
    return node.summaryFileWriter(logDir);
  } catch {
    return null;
  }
}

/**
 * Write the run's curves as TensorBoard events into `logDir` (default `<runDir>/tensorboard`), replacing
 * earlier event files there. `writer` picks the implementation: 'auto' = tfjs-node's on the `tensorflow`
 * backend, the lab's own elsewhere. Returns the log dir and which writer wrote it.
 */
export function writeTensorboard(
  runDir: string,
  opts: { logDir?: string; writer?: "auto" | "tfjs-node" | "lab" } = {},
): { logDir: string; writer: "tfjs-node" | "lab" } {
  const logDir = opts.logDir ?? path.join(runDir, "tensorboard");
  const { columns, rows } = flattenMetrics(readMetricsLines(runDir));
  const tags = columns.filter((c) => c !== "step");
  const points = rows.map((r) => {
    if (!Number.isInteger(r.step))
      throw new Error(`${runDir}/metrics.jsonl has a line without an integer 'step': it was not written by train()`);
    const scalars: Record<string, number> = {};
    for (const c of tags) scalars[c.replace(/\./g, "/")] = r[c];
    return { step: r.step, scalars };
  });
  if (fs.existsSync(logDir))
    for (const f of fs.readdirSync(logDir)) if (f.includes("tfevents")) fs.rmSync(path.join(logDir, f));
  fs.mkdirSync(logDir, { recursive: true });
  const want = opts.writer ?? "auto";
  const nodeWriter = want === "lab" ? null : nodeSummaryWriter(logDir);
  if (want === "tfjs-node" && !nodeWriter) {
    throw new Error(
      `tf.node.summaryFileWriter needs the native 'tensorflow' backend, but this process runs '${tf.getBackend()}': use writer 'auto' or 'lab'`,
    );
  }
  if (!nodeWriter) {
    writeScalarEvents(logDir, points);
    return { logDir, writer: "lab" };
  }
  for (const p of points)
    for (const [tag, v] of Object.entries(p.scalars)) if (Number.isFinite(v)) nodeWriter.scalar(tag, v, p.step);
  nodeWriter.flush();
  return { logDir, writer: "tfjs-node" };
}
