import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { checkImports, relativeImports } from "./import-rules";

const LIB = path.join(__dirname, "..", "..", "lib");

function readLib(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) out.set(path.relative(LIB, p).split(path.sep).join("/"), fs.readFileSync(p, "utf8"));
    }
  };
  walk(LIB);
  return out;
}

test("lib/: every import points down a layer or stays in its folder, and there is no circle", () => {
  const v = checkImports(readLib());
  assert.deepEqual(v.map((x) => `${x.file} -> ${x.imports}: ${x.why}`), []);
});

test("the rule fails on a planted upward import, a sideways one, a circle and an unknown folder", () => {
  const files = new Map([
    ["rng.ts", "export const r = 1;"],
    ["audio/w.ts", 'import type { X } from "../data/types";'],
    ["model/a.ts", 'import type { X } from "../data/types";\nimport { b } from "./b";'],
    ["model/b.ts", 'import { a } from "./a";'],
    ["data/types.ts", 'import { r } from "../rng";'],
    ["train/t.ts", 'import { e } from "../eval/e";'],
    ["eval/e.ts", "export const e = 1;"],
    ["viz/f.ts", 'import { r } from "../rng";'],
  ]);
  const why = checkImports(files).map((x) => `${x.file}|${x.imports}|${x.why.split(":")[0]}`).sort();
  assert.deepEqual(why, [
    "audio/w.ts|data/types.ts|upward",
    "model/a.ts|data/types.ts|sideways",
    "model/a.ts|model/b.ts|circle",
    "train/t.ts|eval/e.ts|sideways",
    "viz/f.ts|-|'viz' has no layer",
  ]);
});

test("relativeImports reads import, export-from, type imports, dynamic import and require", () => {
  const src = [
    'import { a } from "./a";',
    'import type { B } from "../b";',
    'export { c } from "./c";',
    'import "./side-effect";',
    'const d = require("./d");',
    'const e = await import("../e");',
    'import fs from "fs";',
    '/** not this: require("./in-a-comment") */',
  ].join("\n");
  assert.deepEqual(relativeImports(src), ["./a", "../b", "./c", "./side-effect", "./d", "../e"]);
});
