/**
 * `AutoGuard`: compile: "auto" keeps compiling only while it pays, measured on the run itself. Machines differ
 * (and these 2-core ones are shared), and so do models: LST's capture (its step's JS, replayed every compiled
 * step) can cost as much as the kernels the graph saves. So "auto" compares the two ways of stepping, in the
 * same run, and keeps the faster:
 *
 *   probe     compiled steps as usual, each followed by one eager step, until PROBE_SAMPLES of each are timed
 *             (steps that trace or build a graph are not samples); then the faster way wins:
 *   compiled  for RECHECK steps, then probe again (the load may have changed);
 *   eager     for PAUSE steps (doubling at each new pause), then probe again.
 * Also, when fewer than half of the last CHURN_WINDOW steps that tried a graph found one (the step's shapes
 * vary with the data: LST's longest patch under aligned or entropy patching), the next pause starts at once.
 *
 * The forced eager steps are real steps with the same result (the compiled and eager steps agree to float
 * rounding: docs/speed.md), so a probe costs at most PROBE_SAMPLES steps at the slower speed.
 */
/** How the last step ran, and its times (ms). The binding gives no per-op step stats: session time is one figure. */
export interface StepReport {
  how: "compiled" | "traced" | "eager";
  /** the captures tried (the matching one and any that did not match) */
  captureMs: number;
  /** building and loading a graph (first use of a form, or a rebuild) */
  buildMs: number;
  /** TF_SessionRun */
  sessionMs: number;
  /** ids, value comparisons, wrapping the outputs */
  overheadMs: number;
  /** the whole step (for eager and traced steps, the step itself) */
  totalMs: number;
}

export const PROBE_SAMPLES = 3;
export const RECHECK = 200;
export const FIRST_PAUSE = 32;
export const CHURN_WINDOW = 12;
/** the graph must take at most this fraction of the eager step's time to be kept */
export const KEEP_BELOW = 0.95;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export class AutoGuard {
  private mode: "probe" | "compiled" | "eager" = "probe";
  private left = 0;
  private pause = FIRST_PAUSE;
  private compiledMs: number[] = [];
  private eagerMs: number[] = [];
  private recent: boolean[] = [];
  /** whether the step the runner is about to take was forced eager by a probe */
  private forced = false;

  constructor(private readonly log: (line: string) => void) {}

  /** Whether the next step must run eagerly (a pause, or a probe's eager sample). */
  wantEager(): boolean {
    if (this.mode === "eager") this.forced = true;
    else if (this.mode === "probe")
      this.forced = this.compiledMs.length > this.eagerMs.length && this.eagerMs.length < PROBE_SAMPLES;
    else this.forced = false;
    return this.forced;
  }

  /** Count the step just taken (its report from the runner). */
  record(r: StepReport): void {
    if (this.mode === "eager") {
      if (--this.left <= 0) this.startProbe();
      return;
    }
    if (this.forced) {
      if (this.mode === "probe") {
        this.eagerMs.push(r.totalMs);
        this.decide();
      }
      return;
    }
    // a step that tried the graphs: did one serve it?
    this.recent.push(r.how === "compiled");
    if (this.recent.length > CHURN_WINDOW) this.recent.shift();
    const hits = this.recent.filter(Boolean).length;
    if (this.recent.length === CHURN_WINDOW && hits < CHURN_WINDOW / 2) {
      this.startPause(
        `${hits} of the last ${CHURN_WINDOW} steps matched a graph (the step's shapes vary with the data)`,
      );
      return;
    }
    if (this.mode === "compiled") {
      if (--this.left <= 0) this.startProbe();
      return;
    }
    if (r.how === "compiled" && r.buildMs === 0) this.compiledMs.push(r.totalMs);
    this.decide();
  }

  /** End a probe with enough samples of both: keep the faster way. */
  private decide(): void {
    if (this.compiledMs.length < PROBE_SAMPLES || this.eagerMs.length < PROBE_SAMPLES) return;
    const ratio = median(this.compiledMs) / median(this.eagerMs);
    if (ratio <= KEEP_BELOW) {
      this.mode = "compiled";
      this.left = RECHECK;
    } else this.startPause(`a compiled step took ${ratio.toFixed(2)}x the eager step's time here`);
  }

  private startProbe(): void {
    this.mode = "probe";
    this.compiledMs = [];
    this.eagerMs = [];
    this.recent = [];
  }

  private startPause(why: string): void {
    this.log(`compiled step (auto): ${why}; the next ${this.pause} steps run eagerly, then it measures again`);
    this.mode = "eager";
    this.left = this.pause;
    this.pause *= 2;
    this.recent = [];
  }
}
