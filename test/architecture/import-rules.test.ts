import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { checkEntryImports, checkImports, relativeImports } from "./import-rules";

const ROOT = path.join(__dirname, "..", "..");
const LIB = path.join(ROOT, "lib");

function readLib(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts"))
        out.set(path.relative(LIB, p).split(path.sep).join("/"), fs.readFileSync(p, "utf8"));
    }
  };
  walk(LIB);
  return out;
}

test("lib/: every import points down a layer or stays in its folder, and there is no circle", () => {
  const v = checkImports(readLib());
  assert.deepEqual(
    v.map((x) => `${x.file} -> ${x.imports}: ${x.why}`),
    [],
  );
});

test("scripts/ and bench/ import lib/ only through lib/index.ts or lib/internal.ts", () => {
  const sources = new Map<string, string>();
  for (const dir of ["scripts", "bench"]) {
    for (const f of fs.readdirSync(path.join(ROOT, dir)))
      if (f.endsWith(".ts")) sources.set(`${dir}/${f}`, fs.readFileSync(path.join(ROOT, dir, f), "utf8"));
  }
  assert.ok(sources.size > 5);
  assert.deepEqual(
    checkEntryImports(sources).map((x) => `${x.file} -> ${x.imports}`),
    [],
  );
});

test("the entry rule fails on a planted import of a lib/ internal", () => {
  const files = new Map([
    [
      "scripts/a.ts",
      'import { train } from "../lib";\nimport { cli } from "../lib/internal";\nimport { x } from "../lib/index";',
    ],
    ["bench/b.ts", 'import { train } from "../lib/train/train";\nimport { y } from "./helper";'],
  ]);
  assert.deepEqual(
    checkEntryImports(files).map((x) => `${x.file}|${x.imports}`),
    ["bench/b.ts|../lib/train/train"],
  );
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
    ["widgets/f.ts", 'import { r } from "../rng";'],
  ]);
  const why = checkImports(files)
    .map((x) => `${x.file}|${x.imports}|${x.why.split(":")[0]}`)
    .sort();
  assert.deepEqual(why, [
    "audio/w.ts|data/types.ts|upward",
    "model/a.ts|data/types.ts|sideways",
    "model/a.ts|model/b.ts|circle",
    "train/t.ts|eval/e.ts|sideways",
    "widgets/f.ts|-|'widgets' has no layer",
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
