/**
 * The environment a notebook or a report runs in: versions of the stack and a matmul timing on the active
 * backend (the quickest check that the native backend, not a fallback, is doing the work).
 */
import os from "os";
import * as tf from "@tensorflow/tfjs-core";
import { backendReport } from "../backend";
import { describeAdapterLine } from "../backend-webgpu";
import { paperLayout, type Figure } from "../viz/paper-style";

export interface VersionRow {
  component: string;
  version: string;
}

function pkgVersion(name: string): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

/** Versions of node, the tfjs packages, tslab, plotly, danfo and the machine. */
export function versions(): VersionRow[] {
  const r = backendReport();
  return [
    { component: "node", version: process.version },
    { component: "backend", version: `${r.backend} (${r.provider}, ${r.threads} threads)` },
    ...(r.adapter ? [{ component: "webgpu adapter", version: describeAdapterLine(r.adapter) }] : []),
    { component: "native library", version: r.version },
    ...[
      "@tensorflow/tfjs-core",
      "@tensorflow/tfjs-node",
      "@tensorflow/tfjs-backend-wasm",
      "tslab",
      "plotly.js-dist",
      "danfojs-node",
      "playwright-core",
      "wavefile",
      "@echogarden/espeak-ng-emscripten",
    ].map((p) => ({ component: p, version: pkgVersion(p) })),
    {
      component: "machine",
      version: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    },
  ];
}

export interface MatmulTiming {
  n: number;
  backend: string;
  /** median milliseconds of one n x n x n matmul (data read back included) */
  ms: number;
  gflops: number;
}

/** Time an n x n matmul on the active backend: one warm-up, then the median of `reps` (asynchronous reads: webgpu has no synchronous one). */
export async function matmulBenchmark(n = 1024, reps = 5): Promise<MatmulTiming> {
  const a = tf.randomNormal([n, n], 0, 1, "float32", 1);
  const b = tf.randomNormal([n, n], 0, 1, "float32", 2);
  const once = async () => {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
    return performance.now() - t0;
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await once());
  times.sort((x, y) => x - y);
  tf.dispose([a, b]);
  const ms = times[Math.floor(reps / 2)];
  return { n, backend: tf.getBackend(), ms, gflops: (2 * n * n * n) / (ms * 1e6) };
}

/** Matmul timings as a figure: GFLOP/s against the matrix size. */
export function matmulFigure(timings: readonly MatmulTiming[]): Figure {
  const layout = paperLayout({
    title: `matmul on ${timings[0]?.backend ?? "?"}`,
    xTitle: "n (n x n x n)",
    yTitle: "GFLOP/s",
  });
  return {
    data: [
      {
        type: "scatter",
        mode: "lines+markers",
        name: "GFLOP/s",
        x: timings.map((t) => t.n),
        y: timings.map((t) => t.gflops),
      },
    ],
    layout,
  };
}
