import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "fs";
import os from "os";
import path from "path";
import { parseCsv, loadStoryClozeCsv, loadTopicStoryClozeCsv, loadHellaSwagJsonl, loadBenchmarkFile } from "../../lib/data/formats";
import { encodeTextItem } from "../../lib/data/bench-encode";

const HEADER = "InputStoryid,InputSentence1,InputSentence2,InputSentence3,InputSentence4,RandomFifthSentenceQuiz1,RandomFifthSentenceQuiz2,AnswerRightEnding";
const CSV = [
  HEADER,
  'a1,Tom had a dog.,"The dog, a pug, liked walks.",One day it rained.,Tom stayed in.,Tom was happy.,"Tom said ""no"" to cake.",1',
  "a2,Ann baked.,She was proud.,Her oven broke.,She called Ben.,Ben fixed it.,Ben flew away.,1",
  'a3,Sam ran.,"He ran far,\nvery far.",He got tired.,He sat down.,He slept.,He ran more.,2',
].join("\r\n");

test("parseCsv: quoted commas, doubled quotes, newlines in quotes, CRLF, BOM, blank lines", () => {
  const { records, lines } = parseCsv('\ufeffa,b\n"x\ny",2\n\n"he said ""hi"", then left",3\n');
  assert.deepEqual(records, [
    ["a", "b"],
    ["x\ny", "2"],
    ['he said "hi", then left', "3"],
  ]);
  assert.deepEqual(lines, [1, 2, 5]);
  assert.throws(() => parseCsv('a,"open\n'), /line 1: a quoted field is never closed/);
  assert.throws(() => parseCsv('a,"x"y\n'), /line 1: character "y" after a closing quote/);
});

test("loadStoryClozeCsv: columns, label 1|2 -> 0|1, context of four sentences", () => {
  const items = loadStoryClozeCsv(CSV);
  assert.equal(items.length, 3);
  assert.deepEqual(items[0], {
    id: "storycloze-a1",
    benchmark: "storycloze",
    kind: "sc",
    context: "Tom had a dog. The dog, a pug, liked walks. One day it rained. Tom stayed in.",
    endings: ["Tom was happy.", 'Tom said "no" to cake.'],
    label: 0,
    type: "real",
    tier: 0,
  });
  assert.equal(items[2].label, 1);
  assert.equal(items[2].context, "Sam ran. He ran far,\nvery far. He got tired. He sat down.");
  assert.equal(loadStoryClozeCsv(CSV, { limit: 1 }).length, 1);
  const t = loadTopicStoryClozeCsv(CSV);
  assert.equal(t[0].kind, "tsc");
  assert.equal(t[0].benchmark, "topic-storycloze");
  // the loaded items encode text-to-text
  const enc = encodeTextItem(items[0], { encode: (s: string) => Array.from(s, (c) => 5 + (c.charCodeAt(0) % 200)) });
  assert.equal(enc.endings.length, 2);
});

test("loadStoryClozeCsv: malformed rows are listed by line number with what is wrong", () => {
  const bad = [HEADER, "b1,a,b,c,d,e,f,3", "b2,a,b,c,d,e,f,1", "b3,a,b,c,d,e,f", "b4,a,,c,d,e,f,2"].join("\n");
  assert.throws(
    () => loadStoryClozeCsv(bad),
    (e: Error) => {
      assert.match(e.message, /3 malformed row/);
      assert.match(e.message, /line 2: AnswerRightEnding is "3", expected 1 or 2/);
      assert.match(e.message, /line 4: 7 fields, the header has 8/);
      assert.match(e.message, /line 5: empty InputSentence2/);
      assert.doesNotMatch(e.message, /line 3/);
      return true;
    },
  );
  assert.throws(() => loadStoryClozeCsv("id,text\n1,x\n"), /header lacks column\(s\) InputStoryid/);
  assert.throws(() => loadStoryClozeCsv(""), /CSV is empty/);
});

test("loadHellaSwagJsonl: ctx or ctx_a + ctx_b, numeric-string labels, malformed lines", () => {
  const jsonl = [
    JSON.stringify({ ind: 4, ctx: "A man is sitting on a roof. he", endings: ["is using wrap.", "is ripping shingles.", "is holding a rubik's cube.", "starts pulling up roofing."], label: 3 }),
    "",
    JSON.stringify({ ind: 7, ctx_a: "A woman holds a bow.", ctx_b: "she", endings: ["aims.", "sings.", "eats.", "sleeps."], label: "0" }),
  ].join("\n");
  const items = loadHellaSwagJsonl(jsonl);
  assert.equal(items.length, 2);
  assert.equal(items[0].id, "hellaswag-4");
  assert.equal(items[0].label, 3);
  assert.equal(items[0].kind, "hs");
  assert.equal(items[1].context, "A woman holds a bow. she");
  assert.equal(items[1].label, 0);
  const bad = [
    jsonl,
    "{not json",
    JSON.stringify({ ctx: "x", endings: ["a", "b"], label: 5 }),
    JSON.stringify({ endings: ["a", "b"], label: 0 }),
    JSON.stringify({ ctx: "x", endings: "ab", label: 0 }),
    "[1,2]",
  ].join("\n");
  assert.throws(
    () => loadHellaSwagJsonl(bad),
    (e: Error) => {
      assert.match(e.message, /5 malformed row/);
      assert.match(e.message, /line 4: invalid JSON/);
      assert.match(e.message, /line 5: 'label' is 5/);
      assert.match(e.message, /line 6: no context/);
      assert.match(e.message, /line 7: 'endings' must be an array/);
      assert.match(e.message, /line 8: not a JSON object/);
      return true;
    },
  );
});

test("loadBenchmarkFile: by extension and name", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "formats-"));
  const w = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  assert.equal(loadBenchmarkFile(w("cloze_test.csv", CSV))[0].kind, "sc");
  assert.equal(loadBenchmarkFile(w("topic_cloze.csv", CSV))[0].kind, "tsc");
  assert.equal(loadBenchmarkFile(w("x.csv", CSV), { kind: "tsc" })[0].kind, "tsc");
  assert.equal(loadBenchmarkFile(w("hs.jsonl", JSON.stringify({ ctx: "c", endings: ["a", "b", "c", "d"], label: 1 })))[0].kind, "hs");
  assert.throws(() => loadBenchmarkFile(w("x.txt", "")), /unknown extension '.txt'/);
  assert.throws(() => loadBenchmarkFile(path.join(dir, "missing.csv")), /does not exist/);
  assert.throws(() => loadBenchmarkFile(path.join(dir, "x.csv"), { kind: "hs" }), /not 'hs'/);
  fs.rmSync(dir, { recursive: true });
});
