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
    if (!(key in out)) {
      const known = Object.keys(out).join(", ");
      throw new Error(`unknown config key '${path}'. Known keys here: ${known}. Fix the spelling or remove it.`);
    }
    if (value === undefined) continue;
    const def = out[key];
    if (isPlainObject(def)) {
      out[key] = resolveConfig(def, value as DeepPartial<typeof def>, path);
    } else if (def === null || value === null) {
      out[key] = value;
    } else if (Array.isArray(def)) {
      if (!Array.isArray(value)) throw new Error(`config '${path}' must be an array, got ${JSON.stringify(value)}`);
      out[key] = structuredClone(value);
    } else if (typeof def !== typeof value) {
      throw new Error(
        `config '${path}' must be a ${typeof def} (default ${JSON.stringify(def)}), got ${JSON.stringify(value)}`,
      );
    } else {
      out[key] = value;
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
      else if (value.startsWith("[") || value.startsWith("{")) value = JSON.parse(value);
    }
    let node = out;
    for (const k of keys.slice(0, -1)) {
      if (!isPlainObject(node[k])) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
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
