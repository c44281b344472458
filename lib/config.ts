/**
 * Typed configs with defaults, and overrides that reject unknown keys.
 *
 * Every config in the lab (data, model, train, eval, grids) is a plain object of defaults. A user
 * (notebook cell, CLI `--key=value`, grid preset) passes a *partial* override; `resolveConfig` merges it
 * recursively and throws on a key the defaults do not have, or on a value whose type differs from the
 * default's (a typo must never silently become a no-op, as in nanoGPT's configurator and BLT's
 * `extra="forbid"`).
 */
import { createHash } from "crypto";

export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * `key` is an own property of `obj`. Every lookup of a user's string in a table goes through this (or `ownKey`):
 * `key in obj` and `obj[key]` also find what every object inherits (`constructor`, `toString`, `__proto__`),
 * so `--grid=constructor` would find a function and `--model.__proto__.x=1` would write into Object.prototype.
 */
export function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** `table[key]` when `key` is its own (see hasOwn), else undefined. */
export function ownKey<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return hasOwn(table, key) ? table[key] : undefined;
}

/**
 * Set `obj[key] = value` as an own property, also for `__proto__` (a plain assignment would replace the object's
 * prototype instead); the override builders use it, so such a key reaches resolveConfig and is refused there.
 */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The object at `obj[key]` (an own plain object), made if absent: one step of building `--a.b.c=1` overrides. */
export function ownChild(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const x = hasOwn(obj, key) ? obj[key] : undefined;
  if (isPlainObject(x)) return x;
  const made: Record<string, unknown> = {};
  setOwn(obj, key, made);
  return made;
}

/** Merge `overrides` into a deep copy of `defaults`; unknown keys or type mismatches throw. */
export function resolveConfig<T extends object>(
  defaults: T,
  overrides: DeepPartial<T> | undefined,
  name = "config",
): T {
  const out = structuredClone(defaults) as Record<string, unknown>;
  if (overrides === undefined) return out as T;
  if (!isPlainObject(overrides)) {
    throw new Error(`${name}: overrides must be an object, got ${JSON.stringify(overrides)}`);
  }
  for (const [key, value] of Object.entries(overrides)) {
    const path = `${name}.${key}`;
    if (!hasOwn(out, key)) {
      const known = Object.keys(out).join(", ");
      throw new Error(`unknown config key '${path}'. Known keys here: ${known}. Fix the spelling or remove it.`);
    }
    if (value === undefined) continue;
    const def = out[key];
    if (isPlainObject(def)) {
      setOwn(out, key, resolveConfig(def, value as DeepPartial<typeof def>, path));
    } else if (def === null || value === null) {
      setOwn(out, key, value);
    } else if (Array.isArray(def)) {
      if (!Array.isArray(value)) throw new Error(`config '${path}' must be an array, got ${JSON.stringify(value)}`);
      setOwn(out, key, structuredClone(value));
    } else if (typeof def !== typeof value) {
      throw new Error(
        `config '${path}' must be a ${typeof def} (default ${JSON.stringify(def)}), got ${JSON.stringify(value)}`,
      );
    } else {
      setOwn(out, key, value);
    }
  }
  return out as T;
}

/** Parse CLI args `--a.b=3 --flag --name=x` into a nested override object (numbers/booleans coerced). */
export function parseCliOverrides(argv: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const arg of argv) {
    const m = /^--([A-Za-z0-9_.]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`cannot parse argument '${arg}': expected --key=value`);
    const keys = m[1].split(".");
    const raw = m[2];
    let value: unknown = raw === undefined ? true : raw;
    if (typeof value === "string") {
      if (value === "true" || value === "false") value = value === "true";
      else if (value !== "" && !Number.isNaN(Number(value))) value = Number(value);
      else if (value.startsWith("[") || value.startsWith("{")) {
        try {
          value = JSON.parse(value);
        } catch (e) {
          throw new Error(
            `cannot parse the value of --${m[1]} as JSON (${(e as Error).message}): quote it for the shell, e.g. '--${m[1]}=[1,2]'`,
          );
        }
      }
    }
    let node = out;
    for (const k of keys.slice(0, -1)) node = ownChild(node, k);
    setOwn(node, keys[keys.length - 1], value);
  }
  return out;
}

/** Canonical JSON (sorted keys) so that equal configs hash equally. */
export function canonicalJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(",")}]`;
  if (isPlainObject(x)) {
    const keys = Object.keys(x).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(x[k])}`).join(",")}}`;
  }
  return JSON.stringify(x);
}

/** Short stable hash of a resolved config (12 hex chars of sha256 over canonical JSON). */
export function configHash(x: unknown): string {
  return createHash("sha256").update(canonicalJson(x)).digest("hex").slice(0, 12);
}

/**
 * A usage error (a flag, an argument, an environment variable such as LST_DATA_DIR): the message names the
 * bad value and the fix. A script's entry point prints only the message (no stack) and exits 2.
 */
export class CliError extends Error {}
