/**
 * JupyterLab in a real browser (`npm run test:browser`, part of `npm test`): JupyterLab from the lab's venv
 * (scripts/lab.sh, as `npm run lab` starts it; it installs JupyterLab from pip first when the venv lacks it)
 * on a loopback port with a token, driven by playwright-core and the system's Chromium. Notebooks 00 and 04
 * are opened, every cell is run through the UI (Run > Run All Cells), and the page must
 * show a drawn Plotly figure, the audio player and the DataFrame table, and no cell an error. Notebooks run
 * at smoke scale (LST_SCALE=smoke, as `npm run notebooks`), on copies under data/browser/notebooks/ (so the
 * repository's notebooks never get outputs); screenshots go to data/browser/<notebook>.png (git-ignored).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "child_process";
import crypto from "crypto";
import fs from "fs";
import net from "net";
import path from "path";
import { chromium, type Browser, type Page } from "playwright-core";
import { chromiumPath } from "../../lib/viz/export";

const ROOT = path.resolve(__dirname, "..", "..");
const OUT = path.join(ROOT, "data", "browser");
const NOTEBOOKS = path.join(OUT, "notebooks");
const TOKEN = crypto.randomBytes(16).toString("hex");
const MINUTE = 60_000;
/** The notebook in the visible tab. */
const NB = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook";

/** JupyterLab settings for a test: every cell in the DOM, no autosave, no news or update toasts. */
const SETTINGS: Record<string, object> = {
  "@jupyterlab/notebook-extension/tracker": { windowingMode: "none" },
  "@jupyterlab/docmanager-extension/plugin": { autosave: false },
  "@jupyterlab/apputils-extension/notification": { fetchNews: "false", checkForUpdates: false, doNotDisturbMode: true },
};

let server: ChildProcess | null = null;
let serverLog = "";
let base = "";
let browser: Browser | null = null;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** GET a Jupyter REST endpoint with the token; null while the server does not answer. */
async function api<T>(route: string, method = "GET"): Promise<T | null> {
  try {
    const r = await fetch(`${base}/api/${route}`, { method, headers: { Authorization: `token ${TOKEN}` } });
    if (!r.ok) return null;
    return r.status === 204 ? ({} as T) : ((await r.json()) as T);
  } catch {
    return null;
  }
}

const running = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | false>): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (server && !running(server))
      throw new Error(
        `JupyterLab exited (code ${server.exitCode ?? server.signalCode}) while waiting for ${what}:\n${serverLog.slice(-3000)}`,
      );
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}; JupyterLab's log:\n${serverLog.slice(-3000)}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

before(async () => {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(NOTEBOOKS, { recursive: true });
  for (const f of fs.readdirSync(path.join(ROOT, "notebooks")).filter((n) => n.endsWith(".ipynb")))
    fs.copyFileSync(path.join(ROOT, "notebooks", f), path.join(NOTEBOOKS, f));
  fs.writeFileSync(path.join(NOTEBOOKS, "served-copies.txt"), "the browser test's copies of notebooks/\n");
  const jupyter = path.join(OUT, "jupyter");
  for (const [plugin, values] of Object.entries(SETTINGS)) {
    const file = path.join(jupyter, "settings", `${plugin}.jupyterlab-settings`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(values));
  }
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    LST_SCALE: process.env.LST_SCALE ?? "smoke",
    LST_LAB_NOTEBOOKS: NOTEBOOKS,
    JUPYTER_CONFIG_DIR: path.join(jupyter, "config"),
    JUPYTER_RUNTIME_DIR: path.join(jupyter, "runtime"),
    JUPYTERLAB_SETTINGS_DIR: path.join(jupyter, "settings"),
    JUPYTERLAB_WORKSPACES_DIR: path.join(jupyter, "workspaces"),
  };
  // detached: the server and its kernels are one process group, ended together
  const args = [
    path.join(ROOT, "scripts", "lab.sh"),
    "--no-browser",
    `--port=${port}`,
    "--ServerApp.ip=127.0.0.1",
    `--IdentityProvider.token=${TOKEN}`,
  ];
  server = spawn("bash", args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const keep = (b: Buffer) => void (serverLog = (serverLog + b.toString()).slice(-20_000));
  server.stdout?.on("data", keep);
  server.stderr?.on("data", keep);
  // the first run installs JupyterLab into the venv from pip (about half a minute from the wheel mirror)
  await waitFor("JupyterLab to answer", 10 * MINUTE, () => api("status"));
  const marker = await api<{ path: string }>("contents/served-copies.txt?content=0");
  assert.equal(
    marker?.path,
    "served-copies.txt",
    "JupyterLab serves another folder than the notebook copies (LST_LAB_NOTEBOOKS)",
  );
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
  const p = server;
  if (!p?.pid || !running(p)) return;
  const exited = new Promise((r) => p.once("exit", r));
  process.kill(-p.pid, "SIGTERM"); // lab.sh exec-ed JupyterLab, which shuts its kernels down
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (running(p)) process.kill(-p.pid, "SIGKILL");
});

/** The bit of the DOM that the functions run in the page use (the project's tsconfig has no DOM lib). */
interface El {
  textContent: string | null;
  querySelectorAll(selector: string): ArrayLike<El>;
}
declare const document: El;

interface CellState {
  prompts: string[];
  busy: boolean;
  failed: boolean;
}

/** The execution prompts of the code cells ("[3]:", "[*]:", "[ ]:"), and whether an output is an error. */
function cellState(page: Page): Promise<CellState> {
  return page.evaluate((nb) => {
    const prompts = Array.from(document.querySelectorAll(`${nb} .jp-CodeCell .jp-InputArea-prompt`)).map((e) =>
      (e.textContent ?? "").trim(),
    );
    const failed =
      document.querySelectorAll(`${nb} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]`).length >
      0;
    return { prompts, busy: prompts.some((p) => p.includes("*")), failed };
  }, NB);
}

/**
 * Open a notebook (in a workspace of its own, so no other tab is restored), wait for its kernel, run every
 * cell from the Run menu, and wait until all ran.
 */
async function runAll(page: Page, name: string, timeoutMs: number): Promise<void> {
  await page.goto(`${base}/lab/workspaces/${name}/tree/${name}.ipynb?reset&token=${TOKEN}`);
  await page.waitForSelector(`${NB} .jp-CodeCell`, { timeout: 2 * MINUTE });
  await waitFor(`${name}'s kernel`, 2 * MINUTE, async () => {
    const sessions = await api<{ path: string; kernel: { execution_state: string } }[]>("sessions");
    return sessions?.some((s) => s.path.endsWith(`${name}.ipynb`) && s.kernel.execution_state === "idle") ?? false;
  });
  await page.click(`${NB} .jp-Cell`);
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Run$/ }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: /^Run All Cells$/ }).click();
  // done when nothing runs and every cell ran, or a cell failed (the kernel then skips the cells queued after it)
  await waitFor(`every cell of ${name} to run`, timeoutMs, async () => {
    const s = await cellState(page);
    return !s.busy && s.prompts.length > 0 && (s.failed || s.prompts.every((p) => /\[\d+\]/.test(p))) && s;
  });
}

interface PageReport {
  errors: string[];
  plots: number;
  audio: number;
  tables: string[][];
}

/**
 * Draw the Plotly figures: JupyterLab's plotly renderer (jupyterlab-plotly) shows a bundle's PNG first and
 * draws the live plot when the pointer enters the figure, as a reader's would.
 */
async function drawFigures(page: Page, name: string): Promise<void> {
  const figures = await page.$$(`${NB} .jp-RenderedPlotly`);
  assert.ok(
    figures.length >= 1,
    `${name}: no output is rendered by JupyterLab's Plotly renderer (is the plotly package in the venv?)`,
  );
  for (const f of figures) {
    const img = await f.$("img.plot-img");
    if (!img || (await f.$(".main-svg"))) continue;
    // onto the image itself (a figure narrower than the notebook leaves the output's centre beside it); a raw
    // mouse move, as the image hides itself once the live plot is drawn over it
    await img.scrollIntoViewIfNeeded();
    const box = await img.boundingBox();
    if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  }
  const want = { nb: NB, n: figures.length };
  await page.waitForFunction(
    (w: typeof want) => document.querySelectorAll(`${w.nb} .js-plotly-plot .main-svg`).length >= w.n,
    want,
    { timeout: MINUTE },
  );
  await page.mouse.move(0, 0);
}

/** What the outputs show: error outputs (stderr, tracebacks), drawn Plotly SVGs, audio players, table headers. */
function outputs(page: Page): Promise<PageReport> {
  return page.evaluate((nb) => {
    const area = `${nb} .jp-OutputArea-output`;
    return {
      errors: Array.from(document.querySelectorAll(`${area}[data-mime-type="application/vnd.jupyter.stderr"]`)).map(
        (e) => (e.textContent ?? "").slice(0, 2000),
      ),
      plots: document.querySelectorAll(`${nb} .js-plotly-plot .main-svg`).length, // the output element itself becomes the plot
      audio: document.querySelectorAll(`${area} audio[controls]`).length,
      tables: Array.from(document.querySelectorAll(`${area} table`)).map((t) =>
        Array.from(t.querySelectorAll("th")).map((th) => (th.textContent ?? "").trim()),
      ),
    };
  }, NB);
}

async function checkNotebook(name: string, timeoutMs: number): Promise<PageReport> {
  assert.ok(browser, "the browser did not start");
  const page = await browser.newPage({ viewport: { width: 1400, height: 2400 } });
  try {
    try {
      await runAll(page, name, timeoutMs);
      await drawFigures(page, name);
    } finally {
      await page.screenshot({ path: path.join(OUT, `${name}.png`) });
    }
    const seen = await outputs(page);
    assert.deepEqual(seen.errors, [], `${name}: cells show errors`);
    assert.ok(seen.plots >= 1, `${name}: no Plotly figure was drawn`);
    return seen;
  } finally {
    await page.close();
    // free the cores: shut the notebook's kernel down
    const sessions = (await api<{ id: string; path: string }[]>("sessions")) ?? [];
    for (const s of sessions.filter((x) => x.path.endsWith(`${name}.ipynb`))) await api(`sessions/${s.id}`, "DELETE");
  }
}

test(
  "00-environment runs in JupyterLab: a drawn figure, the audio player, the DataFrame table, no errors",
  { timeout: 10 * MINUTE },
  async () => {
    const seen = await checkNotebook("00-environment", 5 * MINUTE);
    assert.ok(seen.audio >= 1, "no audio player");
    // the danfo DataFrame of the matmul timings
    assert.ok(
      seen.tables.some((h) => h.join(",") === "n,ms,gflops"),
      `no DataFrame table among ${JSON.stringify(seen.tables)}`,
    );
  },
);

test(
  "04-baseline-vs-lst trains its smoke runs and shows its tables and figure in JupyterLab, no errors",
  { timeout: 15 * MINUTE },
  async () => {
    const seen = await checkNotebook("04-baseline-vs-lst", 12 * MINUTE);
    assert.ok(seen.tables.length >= 2, `expected the summary and budget tables, saw ${JSON.stringify(seen.tables)}`);
  },
);

test(
  "11-generate-and-listen prompts in four directions and shows its audio players, tables and figure in JupyterLab, no errors",
  { timeout: 15 * MINUTE },
  async () => {
    const seen = await checkNotebook("11-generate-and-listen", 12 * MINUTE);
    assert.ok(
      seen.audio >= 10,
      `expected 10 audio players (prompt and continuation per direction, the side-by-side pair), saw ${seen.audio}`,
    );
    assert.ok(seen.tables.length >= 3, `expected 3 tables, saw ${JSON.stringify(seen.tables)}`);
  },
);
