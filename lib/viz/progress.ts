/**
 * Progress for long stages (dataset build, training, grids) as plain log lines, in a terminal and in a
 * notebook alike: `stageProgress()` returns the `onProgress(stage, done, total)` callback that the
 * library's long functions take. It prints a stage when it starts, about every 10% and when it ends,
 * with the elapsed time, e.g. `train lst-static 40/400 (12 s)`.
 */
export type OnProgress = (stage: string, done: number, total: number) => void;

export function stageProgress(opts: { log?: (line: string) => void; steps?: number } = {}): OnProgress {
  const log = opts.log ?? ((line: string) => console.log(line));
  const steps = opts.steps ?? 10;
  const t0 = Date.now();
  const lastShown = new Map<string, number>();
  return (stage, done, total) => {
    const every = Math.max(1, Math.floor(total / steps));
    const prev = lastShown.get(stage);
    const show =
      done === total || done === 0 || prev === undefined || Math.floor(done / every) > Math.floor(prev / every);
    if (!show || prev === done) return;
    lastShown.set(stage, done);
    log(`${stage} ${done}/${total} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  };
}
