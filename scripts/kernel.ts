/**
 * `npm run kernel [-- --prefix <dir>]`: register the `lst-lab` Jupyter kernel (tslab started from the
 * project root, see lib/tooling/kernelspec.ts). `--prefix .venv` installs it into a virtualenv's Jupyter
 * (what `npm run lab` does); without it, into $JUPYTER_DATA_DIR or the user's Jupyter data dir.
 */
import path from "path";
import { cli, installKernel } from "../lib/internal";

const { values } = cli({
  command: "npm run kernel --",
  summary: "Register the `lst-lab` Jupyter kernel (tslab started from the project root).",
  flags: {
    prefix: {
      type: "string",
      value: "DIR",
      help: "install into this prefix's Jupyter (a virtualenv, e.g. .venv); default: $JUPYTER_DATA_DIR or the user's Jupyter data dir",
    },
  },
} as const);
const prefix = values.prefix ? path.resolve(values.prefix) : undefined;
const file = installKernel(path.resolve(__dirname, ".."), { prefix });
console.log(`registered kernel 'lst-lab' (LST Lab (TypeScript)) at ${file}`);
