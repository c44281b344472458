/**
 * A compact progress line for loops in notebooks and terminals:
 *
 *   const p = progress("encode", items.length);
 *   for (const it of items) { work(it); p.tick(); }
 *   p.done();
 *
 * Where a line can be redrawn (a terminal, or the tslab kernel, whose stream outputs honour "\r" in
 * JupyterLab) the same line is rewritten at most every `minIntervalMs` (default 200 ms):
 *   "\rencode 40/400 (10%) 1.2 s"
 * Elsewhere (a log file, a headless notebook run) a new line is written at most every `logIntervalMs`
 * (default 2 s), so logs stay short. `done()` always writes the final line, with a newline.
 */

export interface ProgressOptions {
  /** where the text goes (default process.stdout.write) */
  write?: (text: string) => void;
  /** redraw one line with "\r" (default: stdout is a TTY, or we run inside the tslab kernel) */
  inPlace?: boolean;
  minIntervalMs?: number;
  logIntervalMs?: number;
  /** clock in ms (default Date.now); tests pass a fake one */
  now?: () => number;
}

export interface Progress {
  /** count `n` more items done (default 1) */
  tick(n?: number): void;
  /** write the final line; later ticks are ignored */
  done(): void;
}

/** True inside the tslab kernel (its display hook is set while a cell runs). */
function inKernel(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return (require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown }).lastWriteDisplayData != null;
  } catch {
    return false;
  }
}

/** The text of one update, e.g. progressText("encode", 40, 400, 1234) = "encode 40/400 (10%) 1.2 s". */
export function progressText(label: string, done: number, total: number, elapsedMs: number): string {
  const pct = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : "";
  return `${label} ${done}/${total}${pct} ${(elapsedMs / 1000).toFixed(1)} s`;
}

export function progress(label: string, total: number, opts: ProgressOptions = {}): Progress {
  if (!Number.isFinite(total) || total < 0)
    throw new Error(`progress('${label}'): total must be a count >= 0, got ${total}`);
  const write = opts.write ?? ((text: string) => void process.stdout.write(text));
  const inPlace = opts.inPlace ?? (Boolean(process.stdout.isTTY) || inKernel());
  const interval = inPlace ? (opts.minIntervalMs ?? 200) : (opts.logIntervalMs ?? 2000);
  const now = opts.now ?? Date.now;
  const t0 = now();
  let count = 0;
  let lastShown = t0;
  let finished = false;
  const show = (end: boolean) => {
    const text = progressText(label, count, total, now() - t0);
    write(inPlace ? `\r${text}${end ? "\n" : ""}` : `${text}\n`);
  };
  return {
    tick(n = 1) {
      if (finished) return;
      count += n;
      const t = now();
      if (t - lastShown >= interval) {
        lastShown = t;
        show(false);
      }
    },
    done() {
      if (finished) return;
      finished = true;
      show(true);
    },
  };
}
