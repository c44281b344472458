/** Every parity case, for the test's list (the child imports the case files itself). */
import fs from "fs";
import path from "path";
import type { KernelCase } from "./types";

export const cases: KernelCase[] = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith(".ts") && f !== "types.ts" && f !== "index.ts")
  .sort()
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  .flatMap((f) => (require(path.join(__dirname, f)) as { cases: KernelCase[] }).cases);
