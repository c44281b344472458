/**
 * One argument parser for every script (scripts/, bench/), on node's `util.parseArgs`. A script declares its
 * flags as a table; a flag is one line:
 *
 *   const CLI = {
 *     command: "npm start --", summary: "the main job ...",
 *     flags: {
 *       grid: { type: "string", default: "default", help: "the grid to run (--list-grids)" },
 *       "dry-run": { type: "boolean", help: "list the runs and their estimated time; train nothing" },
 *       steps: { type: "number", default: 20, help: "timed steps" },
 *     },
 *   } satisfies CliSpec;
 *   const args = cli(CLI);          // args.grid: string, args["dry-run"]: boolean, args.steps: number
 *
 * Every script gets `--help` (-h), which prints the flags with their defaults. `--grid mixRatio` and
 * `--grid=mixRatio` are the same; a boolean takes `--flag`, `--flag=true|false|1|0`. An unknown flag is an
 * error naming it and listing the valid ones. A spec with `overrides` also takes dotted config overrides,
 * `--model.kind=lst` or `--model.kind lst`, under the prefixes it names (values: numbers, booleans and JSON
 * arrays/objects are coerced, as in config.ts's parseCliOverrides); the config they go into rejects unknown keys.
 */
import { parseArgs } from "util";

export type FlagType = "string" | "boolean" | "number";

export interface FlagSpec {
  type: FlagType;
  help: string;
  /** shown in --help and used when the flag is absent (booleans: false; strings: "") */
  default?: string | number | boolean;
  /** what the value looks like in --help, e.g. "1,2,3" */
  value?: string;
  /** one-letter alias */
  short?: string;
}

export interface CliSpec {
  /** how the command is typed, e.g. "npm start --" or "npx tsx scripts/train.ts" */
  command: string;
  summary: string;
  flags: Readonly<Record<string, FlagSpec>>;
  /** positional arguments, if the command takes any, e.g. { name: "notebook", help: "..." } */
  positionals?: { name: string; help: string };
  /** prefixes of dotted config overrides this command takes (`--model.kind=lst`), and what they set */
  overrides?: { prefixes: readonly string[]; help: string };
  /** example lines for --help */
  examples?: readonly string[];
}

type ValueOf<F extends FlagSpec> = F["type"] extends "boolean" ? boolean : F["type"] extends "number" ? number : string;

export type CliValues<S extends CliSpec> = { [K in keyof S["flags"]]: ValueOf<S["flags"][K]> };

export interface CliResult<S extends CliSpec> {
  values: CliValues<S>;
  positionals: string[];
  /** dotted overrides as a nested object: `--model.kind=lst` -> { model: { kind: "lst" } } */
  overrides: Record<string, unknown>;
  /** flags given on the command line (not defaulted) */
  given: Set<string>;
  /** --help was asked for */
  help: boolean;
}

/** A usage error: the message names the flag and the fix. */
export class CliError extends Error {}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** `--a.b=3` values: numbers, booleans and JSON arrays/objects are coerced; anything else stays text. */
export function coerceValue(raw: string): unknown {
  if (raw === "true" || raw === "false") return raw === "true";
  if (raw !== "" && !Number.isNaN(Number(raw))) return Number(raw);
  if (raw.startsWith("[") || raw.startsWith("{")) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new CliError(`cannot parse '${raw}' as JSON: quote it for the shell, e.g. '--x=[1,2]'`);
    }
  }
  return raw;
}

function flagList(spec: CliSpec): string {
  const names = ["help", ...Object.keys(spec.flags)].map((n) => `--${n}`);
  if (spec.overrides) names.push(...spec.overrides.prefixes.map((p) => `--${p}.<key>`));
  return names.join(", ");
}

function toBoolean(name: string, raw: string): boolean {
  if (raw === "" || raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new CliError(`--${name} is a switch: give it alone (--${name}) or as --${name}=true|false, not '${raw}'`);
}

/** Parse argv against a spec (no printing, no exit: `cli` does those). */
export function parseCli<S extends CliSpec>(spec: S, argv: readonly string[]): CliResult<S> {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, f] of Object.entries(spec.flags))
    options[name] = { type: f.type === "boolean" ? "boolean" : "string", ...(f.short ? { short: f.short } : {}) };
  // strict: false, so that unknown flags and dotted overrides come back as tokens we judge ourselves
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | number | boolean> = {};
  for (const [name, f] of Object.entries(spec.flags))
    values[name] = f.default ?? (f.type === "boolean" ? false : f.type === "number" ? NaN : "");
  const positionals: string[] = [];
  const overrides: Record<string, unknown> = {};
  const given = new Set<string>();
  let help = false;
  const used = new Set<number>(); // positional tokens consumed as an override's value
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === "option-terminator") continue;
    if (t.kind === "positional") {
      if (used.has(t.index)) continue;
      if (!spec.positionals)
        throw new CliError(
          `unexpected argument '${t.value}': ${spec.command} takes no positional arguments; flags are ${flagList(spec)} (see --help)`,
        );
      positionals.push(t.value);
      continue;
    }
    const name = t.name;
    if (name === "help") {
      help = true;
      continue;
    }
    const f = spec.flags[name];
    if (f === undefined) {
      const prefix = name.split(".")[0];
      if (name.includes(".") && spec.overrides?.prefixes.includes(prefix)) {
        let raw = t.value;
        // `--model.kind lst`: the value is the next positional token
        const next = tokens[i + 1];
        if (raw === undefined && next?.kind === "positional" && !next.value.startsWith("-")) {
          raw = next.value;
          used.add(next.index);
        }
        const keys = name.split(".");
        let node = overrides;
        for (const k of keys.slice(0, -1)) {
          if (!isPlainObject(node[k])) node[k] = {};
          node = node[k] as Record<string, unknown>;
        }
        node[keys[keys.length - 1]] = raw === undefined ? true : coerceValue(raw);
        continue;
      }
      const hint =
        spec.overrides && !name.includes(".") && spec.overrides.prefixes.includes(name)
          ? ` (config overrides take a key: --${name}.<key>=value)`
          : "";
      throw new CliError(`unknown flag '${t.rawName}'${hint}. Valid flags: ${flagList(spec)}`);
    }
    given.add(name);
    if (f.type === "boolean") {
      values[name] = t.value === undefined ? true : toBoolean(name, t.value);
      continue;
    }
    if (
      t.value === undefined ||
      (!t.inlineValue && t.value.startsWith("-") && !(f.type === "number" && /^-\d/.test(t.value)))
    ) {
      throw new CliError(
        `--${name} needs a value${f.value ? ` (${f.value})` : ""}: --${name}=VALUE or --${name} VALUE`,
      );
    }
    if (f.type === "number") {
      const x = Number(t.value);
      if (t.value.trim() === "" || !Number.isFinite(x))
        throw new CliError(`--${name} must be a number, got '${t.value}'`);
      values[name] = x;
    } else values[name] = t.value;
  }
  return { values: values as CliValues<S>, positionals, overrides, given, help };
}

/** The --help text: usage, summary, every flag with its default, overrides, examples. */
export function helpText(spec: CliSpec): string {
  const pos = spec.positionals ? ` [${spec.positionals.name} ...]` : "";
  const lines = [`usage: ${spec.command} [options]${pos}`, "", spec.summary, "", "options:"];
  const rows: [string, string][] = [["-h, --help", "print this help and exit"]];
  for (const [name, f] of Object.entries(spec.flags)) {
    const val = f.type === "boolean" ? "" : `=${f.value ?? (f.type === "number" ? "N" : "VALUE")}`;
    const shown =
      f.default === undefined || f.default === "" || f.default === false ? "" : ` (default: ${String(f.default)})`;
    rows.push([`${f.short ? `-${f.short}, ` : ""}--${name}${val}`, `${f.help}${shown}`]);
  }
  if (spec.overrides) for (const p of spec.overrides.prefixes) rows.push([`--${p}.<key>=VALUE`, spec.overrides.help]);
  if (spec.positionals) rows.push([spec.positionals.name, spec.positionals.help]);
  const w = Math.min(34, Math.max(...rows.map((r) => r[0].length)) + 2);
  for (const [a, b] of rows) lines.push(a.length + 2 > w ? `  ${a}\n  ${" ".repeat(w)}${b}` : `  ${a.padEnd(w)}${b}`);
  if (spec.examples?.length) lines.push("", "examples:", ...spec.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}

/**
 * Parse `process.argv` for a script: prints --help and exits 0, or prints a usage error (with the valid flags)
 * and exits 2. Returns the parsed values otherwise.
 */
export function cli<S extends CliSpec>(spec: S, argv: readonly string[] = process.argv.slice(2)): CliResult<S> {
  let r: CliResult<S>;
  try {
    r = parseCli(spec, argv);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    console.error(`${spec.command}: ${e.message}`);
    process.exit(2);
  }
  if (r.help) {
    console.log(helpText(spec));
    process.exit(0);
  }
  return r;
}

/** `--seeds=1,2,3` -> [1, 2, 3] (integers; "" -> undefined), naming the flag on bad input. */
export function intList(flag: string, text: string): number[] | undefined {
  if (text === "") return undefined;
  const xs = text.split(",").map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isInteger(x)))
    throw new CliError(`--${flag} must be integers separated by commas, e.g. 1,2,3; got '${text}'`);
  return xs;
}

/** `parse(text)` for a flag whose parser lives in the library; its error becomes a usage error naming the flag. */
export function flagValue<T>(flag: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (e) {
    throw new CliError(`--${flag}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** `--where=units:phonetic,budget:1x` -> { units: "phonetic", budget: "1x" }. */
export function keyValues(flag: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of text ? text.split(",") : []) {
    const i = kv.indexOf(":");
    if (i <= 0)
      throw new CliError(
        `--${flag} takes key:value pairs separated by commas (e.g. units:phonetic,budget:1x), got '${text}'`,
      );
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}
