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
 * error naming it and listing the valid ones, and so is an empty value (`--seeds=`: leave the flag out instead).
 * A spec with `overrides` also takes dotted config overrides, `--model.kind=lst` or `--model.kind lst`, under the
 * prefixes it names (values: numbers, booleans and JSON arrays/objects are coerced, as in config.ts's
 * parseCliOverrides); the config they go into rejects unknown keys, `__proto__` and `constructor` included.
 */
import { parseArgs } from "util";
import { CliError, hasOwn, ownChild, setOwn } from "../config";

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

// A usage error (lib/config.ts, layer 0, so that lib/paths.ts can throw one for LST_DATA_DIR)
export { CliError } from "../config";

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
    const f = hasOwn(spec.flags, name) ? spec.flags[name] : undefined; // --constructor is not a flag
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
        if (keys.some((k) => k === ""))
          throw new CliError(
            `'${t.rawName}' has an empty key: write --${keys.filter((k) => k !== "").join(".")}=VALUE`,
          );
        // own properties only: `--model.__proto__.x=1` becomes the key '__proto__', which the config refuses
        let node = overrides;
        for (const k of keys.slice(0, -1)) node = ownChild(node, k);
        setOwn(node, keys[keys.length - 1], raw === undefined ? true : coerceValue(raw));
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
    if (t.value.trim() === "") {
      // `--seeds=` (an unset shell variable, say) would otherwise fall back to the default without a word
      const dflt = f.default === undefined || f.default === "" ? "" : ` (the default is ${String(f.default)})`;
      throw new CliError(
        `--${name} is empty: give a value${f.value ? ` (${f.value})` : ""}, or leave the flag out${dflt}`,
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

/**
 * `--mults=1,4` -> [1, 4] (integers; "" -> undefined: the flag's default string), naming the flag on bad input.
 * An empty item is an error, not 0: `1,` is `[1]` mistyped, and Number("") is 0.
 */
export function intList(flag: string, text: string): number[] | undefined {
  if (text === "") return undefined;
  const items = text.split(",").map((s) => s.trim());
  const bad = items.filter((s) => s === "" || !Number.isSafeInteger(Number(s)));
  if (bad.length)
    throw new CliError(
      `--${flag} must be integers separated by commas, e.g. 1,2,3; got '${text}' (${bad.map((b) => (b === "" ? "an empty item" : `'${b}'`)).join(", ")})`,
    );
  return items.map(Number);
}

/**
 * The one seeds parser (`npm start`, eval-file): `--seeds=1,2,3` -> [1, 2, 3]. Refuses an empty value (leave
 * the flag out for the scale's seeds), empty items (`1,`), non-integers and duplicates, naming the flag.
 */
export function seedList(flag: string, text: string): number[] {
  if (text.trim() === "")
    throw new CliError(
      `--${flag} is empty: give seeds as integers separated by commas (e.g. --${flag}=1,2,3), or leave the flag out for the scale's seeds`,
    );
  const seeds = intList(flag, text) as number[];
  const dup = seeds.filter((s, i) => seeds.indexOf(s) !== i);
  if (dup.length)
    throw new CliError(`--${flag} names seed ${dup[0]} twice ('${text}'): give each seed once, e.g. 1,2,3`);
  return seeds;
}

/** `text` if it is one of `names`, else a usage error naming the flag, the value and the choices. */
export function oneOf(flag: string, text: string, names: readonly string[]): string {
  if (!names.includes(text))
    throw new CliError(`--${flag}: unknown value '${text}': choose one of ${names.join(", ")}`);
  return text;
}

/** `parse(text)` for a flag whose parser lives in the library; its error becomes a usage error naming the flag. */
export function flagValue<T>(flag: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (e) {
    throw new CliError(`--${flag}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * `--where=units:phonetic,budget:1x` -> { units: "phonetic", budget: "1x" } (the value may hold further ':', as
 * in mixRatio:1:2). A pair without a key or a value, and a key given twice, are errors naming the flag.
 */
export function keyValues(flag: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of text ? text.split(",") : []) {
    const i = kv.indexOf(":");
    if (i <= 0 || i === kv.length - 1)
      throw new CliError(
        `--${flag} takes key:value pairs separated by commas (e.g. units:phonetic,budget:1x), got '${text}' ('${kv}' lacks a ${i <= 0 ? "key" : "value"})`,
      );
    const key = kv.slice(0, i);
    if (hasOwn(out, key))
      throw new CliError(`--${flag} gives '${key}' twice ('${text}'): give alternatives as ${key}:a|b`);
    setOwn(out, key, kv.slice(i + 1));
  }
  return out;
}
