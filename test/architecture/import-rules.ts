/**
 * The layer rule of lib/, as code: data flows one way (audio/text -> tokenizers -> data -> model ->
 * train/eval -> experiment -> viz), so a module may import only from its own folder or from a lower layer, and
 * no two modules may import each other, directly or round a circle. Data and model are siblings: the data layer
 * builds sequences without knowing the model, the model reads them through records of layer 0. Presentation
 * (viz) sits above orchestration (experiment): tables and figures read runs and datasets, and nothing that makes
 * a result imports a figure. Tooling (the flag parser, kernelspec, notebook runner, environment report) sits on
 * top: it serves scripts and notebooks and may draw with viz (env's timing figure).
 *
 *   layer 0  lib/types.ts, lib/rng.ts, lib/config.ts, lib/files.ts,    (shared records and utilities,
 *            lib/paths.ts, lib/backend.ts, lib/backend-webgpu.ts,      the backends and their kernels)
 *            lib/webgpu/
 *   layer 1  lib/audio/
 *   layer 2  lib/tokenizers/
 *   layer 3  lib/data/, lib/model/                                    (siblings: neither imports the other)
 *   layer 4  lib/train/, lib/eval/                                    (siblings)
 *   layer 5  lib/experiment/                                          (orchestration and the run store)
 *   layer 6  lib/viz/                                                 (presentation: tables, figures, export)
 *   layer 7  lib/tooling/                                             (flags, kernelspec, notebook runner, env)
 *   layer 8  lib/index.ts, lib/internal.ts                            (the public entry; the scripts' second entry)
 *
 * A file in a folder the table does not know is itself a violation: give the folder a layer here first.
 * Outside lib/, scripts/ and bench/ import lib/ only through lib/index.ts or lib/internal.ts (ENTRIES).
 */
import path from "path";

/** The top-level files of layer 0: one group, so they may import each other (no circle still). */
export const BASE_FILES = [
  "types.ts",
  "rng.ts",
  "config.ts",
  "files.ts",
  "paths.ts",
  "backend.ts",
  "backend-webgpu.ts",
];

export const LAYERS: Record<string, number> = {
  base: 0,
  audio: 1,
  tokenizers: 2,
  data: 3,
  model: 3,
  train: 4,
  eval: 4,
  experiment: 5,
  viz: 6,
  tooling: 7,
  "index.ts": 8,
  "internal.ts": 8,
};

/** The files of lib/ that scripts/ and bench/ may import (the public entry, and the second entry for tools). */
export const ENTRIES = ["index.ts", "internal.ts"];

export interface Violation {
  file: string;
  imports: string;
  why: string;
}

/** Folders that belong to the layer-0 group (the webgpu backend's kernels, registered by backend-webgpu.ts). */
export const BASE_FOLDERS = ["webgpu"];

/** The layer key of a path relative to lib/: its first folder, 'base' for the layer-0 files, else the file name. */
function layerKey(rel: string): string {
  const first = rel.split("/")[0];
  return BASE_FILES.includes(first) || BASE_FOLDERS.includes(first) ? "base" : first;
}

/** Relative module specifiers of a TypeScript source (import/export ... from, import(), require()). */
export function relativeImports(src: string): string[] {
  src = src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, ""); // comments are not imports
  const out: string[] = [];
  const re = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;
  for (let m = re.exec(src); m; m = re.exec(src)) out.push(m[1]);
  return out;
}

/** Resolve `spec` imported by `from` (both relative to lib/) to a file of `files`, or null. */
function resolve(from: string, spec: string, files: Set<string>): string | null {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const cand of [base, `${base}.ts`, `${base}/index.ts`]) if (files.has(cand)) return cand;
  return null;
}

/**
 * Check every file of `sources` (path relative to lib/ -> source text). Returns the violations, each naming
 * the importing file, the imported one and the rule broken; an empty list means the graph is clean.
 */
export function checkImports(sources: Map<string, string>): Violation[] {
  const files = new Set(sources.keys());
  const out: Violation[] = [];
  const edges = new Map<string, string[]>();
  for (const [file, src] of sources) {
    const from = layerKey(file);
    if (!(from in LAYERS))
      out.push({
        file,
        imports: "-",
        why: `'${from}' has no layer: add it to LAYERS in test/architecture/import-rules.ts`,
      });
    const targets: string[] = [];
    for (const spec of relativeImports(src)) {
      const target = resolve(file, spec, files);
      if (!target) {
        if (
          !spec.startsWith("../") ||
          path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).startsWith("..")
        ) {
          out.push({ file, imports: spec, why: "imports from outside lib/" });
        }
        continue;
      }
      targets.push(target);
      const to = layerKey(target);
      if (to === from || !(from in LAYERS) || !(to in LAYERS)) continue;
      if (LAYERS[to] > LAYERS[from])
        out.push({
          file,
          imports: target,
          why: `upward: ${from} (layer ${LAYERS[from]}) imports ${to} (layer ${LAYERS[to]})`,
        });
      else if (LAYERS[to] === LAYERS[from])
        out.push({ file, imports: target, why: `sideways: ${from} and ${to} are siblings at layer ${LAYERS[from]}` });
    }
    edges.set(file, targets);
  }
  for (const cycle of findCycles(edges))
    out.push({ file: cycle[0], imports: cycle[1], why: `circle: ${cycle.join(" -> ")}` });
  return out;
}

/** Every elementary circle found by a depth-first walk (each reported once, from its first file in sort order). */
function findCycles(edges: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    stack.push(f);
    for (const g of edges.get(f) ?? []) {
      if (state.get(g) === 1) cycles.push([...stack.slice(stack.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of [...edges.keys()].sort()) if (!state.has(f)) visit(f);
  return cycles;
}

/**
 * Check the sources of a folder outside lib/ (path relative to the repo root -> source text): every import that
 * reaches into lib/ must name an entry (lib, lib/index or lib/internal). Returns the violations, naming the file.
 */
export function checkEntryImports(sources: Map<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, src] of sources) {
    for (const spec of relativeImports(src)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (target !== "lib" && !target.startsWith("lib/")) continue;
      const inLib = target === "lib" ? "index.ts" : target.slice(4).replace(/(\.ts)?$/, ".ts");
      if (ENTRIES.includes(inLib)) continue;
      out.push({
        file,
        imports: spec,
        why: "reaches into lib/: import it from lib/index.ts, or add it to lib/internal.ts (the scripts' entry)",
      });
    }
  }
  return out;
}
