/**
 * `npm run kernel [-- --prefix <dir>]`: register the `lst-lab` Jupyter kernel (tslab started from the
 * project root, see lib/lab/kernelspec.ts). `--prefix .venv` installs it into a virtualenv's Jupyter
 * (what `npm run lab` does); without it, into $JUPYTER_DATA_DIR or the user's Jupyter data dir.
 */
import path from "path";
import { installKernel } from "../lib/lab/kernelspec";

const args = process.argv.slice(2);
const i = args.indexOf("--prefix");
if (args.some((a, k) => a !== "--prefix" && k !== i + 1)) {
  console.error(`unknown arguments ${args.join(" ")}: use --prefix <dir>`);
  process.exit(1);
}
const prefix = i >= 0 ? path.resolve(args[i + 1] ?? "") : undefined;
const file = installKernel(path.resolve(__dirname, ".."), { prefix });
console.log(`registered kernel 'lst-lab' (LST Lab (TypeScript)) at ${file}`);
