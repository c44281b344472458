/**
 * The `lst-lab` Jupyter kernelspec: tslab started from the project root, so that notebooks in notebooks/
 * import the library as `./lib` (tslab uses the kernel's working directory as its rootDir; a notebook-dir
 * kernel could not import `../lib`). Jupyter substitutes `{connection_file}`, which `sh -c` receives as $0.
 * Node runs with tsx's loader (`--import tsx`), as the headless runner does: tslab type-checks a cell against
 * the library, but at run time `require("./lib")` is Node's, which cannot load lib/index.ts without it
 * (tslab's own loader only maps "./lib" to "./lib.js", not to the folder's index).
 *
 *   { "argv": ["/bin/sh", "-c", "cd '<root>' && exec '<node>' --import tsx '<tslab>' kernel --config-path \"$0\"", "{connection_file}"],
 *     "display_name": "LST Lab (TypeScript)", "language": "typescript" }
 */
import fs from "fs";
import os from "os";
import path from "path";

export const KERNEL_NAME = "lst-lab";

export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  env: Record<string, string>;
  metadata: Record<string, unknown>;
}

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function kernelSpec(root: string, tslabBin: string, nodeBin = "node"): KernelSpec {
  if (!path.isAbsolute(root) || !path.isAbsolute(tslabBin))
    throw new Error(`kernelSpec needs absolute paths, got root '${root}' and tslab '${tslabBin}'`);
  return {
    argv: [
      "/bin/sh",
      "-c",
      `cd ${shQuote(root)} && exec ${shQuote(nodeBin)} --import tsx ${shQuote(tslabBin)} kernel --config-path "$0"`,
      "{connection_file}",
    ],
    display_name: "LST Lab (TypeScript)",
    language: "typescript",
    env: {},
    metadata: { "lst-lab": { root } },
  };
}

/** Where Jupyter looks for kernels: <prefix>/share/jupyter/kernels, else $JUPYTER_DATA_DIR/kernels, else the user dir. */
export function kernelsDir(prefix?: string): string {
  if (prefix) return path.join(prefix, "share", "jupyter", "kernels");
  if (process.env.JUPYTER_DATA_DIR) return path.join(process.env.JUPYTER_DATA_DIR, "kernels");
  return path.join(os.homedir(), ".local", "share", "jupyter", "kernels");
}

/** Write the kernelspec; returns the kernel.json path. */
export function installKernel(root: string, opts: { prefix?: string } = {}): string {
  const tslabBin = path.join(root, "node_modules", "tslab", "bin", "tslab");
  if (!fs.existsSync(tslabBin)) throw new Error(`tslab is not installed at ${tslabBin}: run npm install first`);
  const dir = path.join(kernelsDir(opts.prefix), KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "kernel.json");
  // the node running this script (Jupyter may start kernels with a PATH that lacks node)
  fs.writeFileSync(file, `${JSON.stringify(kernelSpec(root, tslabBin, process.execPath), null, 1)}\n`);
  return file;
}
