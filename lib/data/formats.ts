/**
 * Loaders for the real public benchmark files, as BenchItem[] (lib/data/benchmarks.ts), so that a model can
 * be scored text-to-text (bench-encode.ts `encodeTextItem`) on the sets the paper reports:
 *   StoryCloze (Mostafazadeh et al. 2016) CSV: InputStoryid, InputSentence1..4, RandomFifthSentenceQuiz1,
 *     RandomFifthSentenceQuiz2, AnswerRightEnding (1 or 2)            -> kind "sc", 2 endings
 *   Topic-StoryCloze (TWIST) in the same CSV shape                    -> kind "tsc"
 *   HellaSwag JSONL: `ctx` (or `ctx_a` + " " + `ctx_b`), `endings` (4 strings), `label` (0..3; a number or a
 *     numeric string), optional `ind`, `source_id`                     -> kind "hs", 4 endings
 * Every loader reads all rows, then throws one Error listing every malformed row by line number and what is
 * wrong with it, so a bad file is fixed in one pass. A repeated item id is such a row, and so is (HellaSwag) an
 * item with another ending count than the first. A file must be UTF-8 (a leading byte-order mark is dropped). Loaded items have type "real" and tier 0 (not graded).
 *
 * CSV follows RFC 4180: fields in double quotes may hold commas, newlines and doubled quotes ("").
 * Example: the line  s1,"he said ""hi"", then left",x  has the fields  [s1] [he said "hi", then left] [x].
 */
import fs from "fs";
import path from "path";
import type { BenchItem, BenchKindName } from "./benchmarks";

export interface LoadOptions {
  /** the `benchmark` name given to the items (default: storycloze, topic-storycloze, hellaswag) */
  benchmark?: string;
  /** keep at most this many items (after validation of the whole file) */
  limit?: number;
}

const MAX_LISTED = 20;

/** Throw one error listing the problems (line numbers first), if there are any. */
function reportProblems(what: string, problems: string[]): void {
  if (problems.length === 0) return;
  const listed = problems.slice(0, MAX_LISTED).map((p) => `  ${p}`);
  if (problems.length > MAX_LISTED) listed.push(`  ... and ${problems.length - MAX_LISTED} more`);
  throw new Error(`${what}: ${problems.length} malformed row(s); fix or remove them:\n${listed.join("\n")}`);
}

/** Text without a leading UTF-8 byte-order mark (some editors write one; JSON.parse refuses it). */
function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Items that share an id, as problems naming both lines (`field` is the column the id comes from): scores are
 * kept per item id, so a repeated id would be found only later, as a cache or eval.json that does not match.
 */
function duplicateIds(items: BenchItem[], lineOf: number[], field: string): string[] {
  const first = new Map<string, number>();
  const out: string[] = [];
  items.forEach((it, i) => {
    const at = first.get(it.id);
    if (at === undefined) first.set(it.id, lineOf[i]);
    else out.push(`line ${lineOf[i]}: ${field} gives the id '${it.id}' of line ${at} again; ids must be unique`);
  });
  return out;
}

/**
 * Items whose ending count differs from the file's first item, as problems: chance (1 / endings), the paired
 * statistics and the tables read one count per file, so a file mixing 2- and 4-ending items is refused rather
 * than scored against the wrong chance.
 */
function mixedEndings(items: BenchItem[], lineOf: number[]): string[] {
  if (items.length === 0) return [];
  const n = items[0].endings.length;
  return items
    .map((it, i) => ({ it, line: lineOf[i] }))
    .filter(({ it }) => it.endings.length !== n)
    .map(
      ({ it, line }) =>
        `line ${line}: ${it.endings.length} endings, but line ${lineOf[0]} (the first item) has ${n}; a file must give every item the same number of endings`,
    );
}

/**
 * A text file's contents, decoded as UTF-8 and refusing anything else: Latin-1 or UTF-16 bytes would otherwise
 * turn silently into U+FFFD. The error names the file and the conversion.
 */
export function readUtf8File(file: string, what: string): string {
  let bytes: Buffer;
  try {
    if (fs.statSync(file).isDirectory())
      throw new Error(`the ${what} ${file} is a directory, not a file: give the path of the file itself`);
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`the ${what} ${file} does not exist: download it and give its path`);
    if (code === undefined) throw e;
    throw new Error(`cannot read the ${what} ${file} (${(e as Error).message}): check its path and permissions`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const at = firstBadUtf8(bytes);
    throw new Error(
      `the ${what} ${file} is not UTF-8 (byte ${at} is 0x${bytes[at].toString(16).padStart(2, "0")}; Latin-1 or Windows-1252?): convert it, e.g. \`iconv -f latin1 -t utf-8 ${file} > out${path.extname(file)}\``,
    );
  }
}

/** The offset of the first byte that does not start a valid UTF-8 sequence (readUtf8File's error). */
function firstBadUtf8(b: Uint8Array): number {
  const dec = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    // the sequence length its lead byte announces (0: not a lead byte); the decoder judges the whole sequence
    const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0 || i + n > b.length) return i;
    if (n > 1) {
      try {
        dec.decode(b.subarray(i, i + n));
      } catch {
        return i;
      }
    }
    i += n;
  }
  return b.length - 1;
}

function applyLimit(items: BenchItem[], limit: number | undefined): BenchItem[] {
  if (limit === undefined) return items;
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a non-negative integer, got ${limit}`);
  return items.slice(0, limit);
}

/**
 * Parse CSV text into records, each with the 1-based line where it starts. Blank lines are skipped.
 * Example: parseCsv('a,b\n"x\ny",2\n') -> records [["a","b"], ["x\ny","2"]], lines [1, 2].
 */
export function parseCsv(text: string): { records: string[][]; lines: number[] } {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // byte-order mark
  const records: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const startLine = line;
    const fields: string[] = [];
    let field = "";
    let quoted = false;
    let afterQuote = false;
    let ended = false;
    while (i < src.length && !ended) {
      const c = src[i];
      if (quoted) {
        if (c === '"' && src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        if (c === '"') {
          quoted = false;
          afterQuote = true;
        } else {
          if (c === "\n") line++;
          field += c;
        }
        i++;
        continue;
      }
      if (c === ",") {
        fields.push(field);
        field = "";
        afterQuote = false;
      } else if (c === "\n" || c === "\r") {
        if (c === "\r" && src[i + 1] === "\n") i++;
        line++;
        ended = true;
      } else if (afterQuote) {
        throw new Error(`CSV line ${line}: character ${JSON.stringify(c)} after a closing quote; quote the whole field and double inner quotes ("")`);
      } else if (c === '"' && field === "") {
        quoted = true;
      } else {
        field += c;
      }
      i++;
    }
    if (quoted) throw new Error(`CSV line ${startLine}: a quoted field is never closed; add the closing double quote`);
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "")) {
      records.push(fields);
      lines.push(startLine);
    }
  }
  return { records, lines };
}

const STORY_CLOZE_COLUMNS = [
  "InputStoryid",
  "InputSentence1",
  "InputSentence2",
  "InputSentence3",
  "InputSentence4",
  "RandomFifthSentenceQuiz1",
  "RandomFifthSentenceQuiz2",
  "AnswerRightEnding",
] as const;

function loadClozeCsv(text: string, kind: "sc" | "tsc", benchmark: string, opts: LoadOptions): BenchItem[] {
  const { records, lines } = parseCsv(text);
  if (records.length === 0) throw new Error(`${benchmark} CSV is empty: expected a header row with ${STORY_CLOZE_COLUMNS.join(", ")}`);
  const header = records[0].map((h) => h.trim());
  const missing = STORY_CLOZE_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new Error(`${benchmark} CSV header lacks column(s) ${missing.join(", ")} (has: ${header.join(", ")}): is this a StoryCloze val/test file?`);
  }
  const col = Object.fromEntries(STORY_CLOZE_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof STORY_CLOZE_COLUMNS)[number], number>;
  const items: BenchItem[] = [];
  const lineOf: number[] = [];
  const problems: string[] = [];
  for (let r = 1; r < records.length; r++) {
    const row = records[r];
    const at = `line ${lines[r]}`;
    if (row.length !== header.length) {
      problems.push(`${at}: ${row.length} fields, the header has ${header.length}`);
      continue;
    }
    const get = (c: (typeof STORY_CLOZE_COLUMNS)[number]): string => row[col[c]].trim();
    const empty = STORY_CLOZE_COLUMNS.filter((c) => get(c) === "");
    if (empty.length > 0) {
      problems.push(`${at}: empty ${empty.join(", ")}`);
      continue;
    }
    const answer = get("AnswerRightEnding");
    if (answer !== "1" && answer !== "2") {
      problems.push(`${at}: AnswerRightEnding is ${JSON.stringify(answer)}, expected 1 or 2`);
      continue;
    }
    const endings = [get("RandomFifthSentenceQuiz1"), get("RandomFifthSentenceQuiz2")];
    lineOf.push(lines[r]);
    items.push({
      id: `${benchmark}-${get("InputStoryid")}`,
      benchmark,
      kind,
      context: [1, 2, 3, 4].map((k) => get(`InputSentence${k}` as (typeof STORY_CLOZE_COLUMNS)[number])).join(" "),
      endings,
      label: Number(answer) - 1,
      type: "real",
      tier: 0,
    });
  }
  problems.push(...duplicateIds(items, lineOf, "InputStoryid"));
  reportProblems(`${benchmark} CSV`, problems);
  if (items.length === 0) throw new Error(`${benchmark} CSV has a header but no items: the file is cut short or is not the val/test set; download it again`);
  return applyLimit(items, opts.limit);
}

/** StoryCloze val/test CSV -> 2-ending items (kind "sc"). */
export function loadStoryClozeCsv(text: string, opts: LoadOptions = {}): BenchItem[] {
  return loadClozeCsv(text, "sc", opts.benchmark ?? "storycloze", opts);
}

/** Topic-StoryCloze in the StoryCloze CSV shape -> 2-ending items (kind "tsc"). */
export function loadTopicStoryClozeCsv(text: string, opts: LoadOptions = {}): BenchItem[] {
  return loadClozeCsv(text, "tsc", opts.benchmark ?? "topic-storycloze", opts);
}

/** HellaSwag JSONL (one JSON object a line) -> 4-ending items (kind "hs"). Blank lines are skipped. */
export function loadHellaSwagJsonl(text: string, opts: LoadOptions = {}): BenchItem[] {
  const benchmark = opts.benchmark ?? "hellaswag";
  const items: BenchItem[] = [];
  const lineOf: number[] = [];
  const problems: string[] = [];
  const rows = stripBom(text).split(/\r?\n/);
  rows.forEach((raw, k) => {
    const at = `line ${k + 1}`;
    if (raw.trim() === "") return;
    let o: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        problems.push(`${at}: not a JSON object`);
        return;
      }
      o = parsed as Record<string, unknown>;
    } catch (e) {
      problems.push(`${at}: invalid JSON (${(e as Error).message})`);
      return;
    }
    let context: string | null = null;
    if (typeof o.ctx === "string" && o.ctx.trim() !== "") context = o.ctx.trim();
    else if (typeof o.ctx_a === "string") context = `${o.ctx_a.trim()} ${typeof o.ctx_b === "string" ? o.ctx_b.trim() : ""}`.trim();
    const endings = o.endings;
    const label = typeof o.label === "string" && /^\d+$/.test(o.label.trim()) ? Number(o.label) : o.label;
    const wrong: string[] = [];
    if (context === null || context === "") wrong.push("no context (needs 'ctx' or 'ctx_a' + 'ctx_b')");
    const endingsOk = Array.isArray(endings) && endings.length >= 2 && endings.every((x) => typeof x === "string" && x.trim() !== "");
    if (!endingsOk) wrong.push("'endings' must be an array of at least 2 non-empty strings");
    if (!(typeof label === "number" && Number.isInteger(label) && label >= 0 && (!endingsOk || label < (endings as string[]).length))) {
      wrong.push(`'label' is ${JSON.stringify(o.label)}, expected an ending index (unlabelled test files cannot be scored)`);
    }
    if (wrong.length > 0) {
      problems.push(`${at}: ${wrong.join("; ")}`);
      return;
    }
    const ind = typeof o.ind === "number" || typeof o.ind === "string" ? String(o.ind) : String(k + 1);
    lineOf.push(k + 1);
    items.push({
      id: `${benchmark}-${ind}`,
      benchmark,
      kind: "hs",
      context: context as string,
      endings: (endings as string[]).map((x) => x.trim()),
      label: label as number,
      type: "real",
      tier: 0,
    });
  });
  problems.push(...duplicateIds(items, lineOf, "'ind'"), ...mixedEndings(items, lineOf));
  reportProblems(`${benchmark} JSONL`, problems);
  if (items.length === 0) throw new Error(`${benchmark} JSONL is empty (no JSON lines): the file is cut short or is not the HellaSwag val set; download it again`);
  return applyLimit(items, opts.limit);
}

/**
 * Load a benchmark file by its extension: .jsonl -> HellaSwag; .csv -> StoryCloze, or Topic-StoryCloze when
 * `kind` is "tsc" or the file name contains "topic" or "tsc".
 */
export function loadBenchmarkFile(file: string, opts: LoadOptions & { kind?: BenchKindName } = {}): BenchItem[] {
  if (!fs.existsSync(file)) throw new Error(`benchmark file ${file} does not exist: download it and give its path`);
  const text = readUtf8File(file, "benchmark file");
  try {
    return loadByExtension(file, text, opts);
  } catch (e) {
    // every problem of a file names the file
    throw new Error(`benchmark file ${file}: ${(e as Error).message.replace(`${file}: `, "")}`);
  }
}

function loadByExtension(file: string, text: string, opts: LoadOptions & { kind?: BenchKindName }): BenchItem[] {
  const ext = path.extname(file).toLowerCase();
  const { kind, ...rest } = opts;
  if (ext === ".jsonl") {
    if (kind !== undefined && kind !== "hs") throw new Error(`${file}: a .jsonl file is read as HellaSwag (kind 'hs'), not '${kind}'`);
    return loadHellaSwagJsonl(text, rest);
  }
  if (ext === ".csv") {
    if (kind === "hs") throw new Error(`${file}: a .csv file is read as StoryCloze ('sc' or 'tsc'), not 'hs'`);
    const topic = kind === "tsc" || (kind === undefined && /topic|tsc/i.test(path.basename(file)));
    return topic ? loadTopicStoryClozeCsv(text, rest) : loadStoryClozeCsv(text, rest);
  }
  throw new Error(`unknown extension '${ext}'; use .csv (StoryCloze, Topic-StoryCloze) or .jsonl (HellaSwag)`);
}
