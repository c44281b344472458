/**
 * Small file helpers for caches: atomic writes (temp file + rename, so a killed build never leaves a
 * half-written file behind) and int16 PCM shards for synthesized audio.
 */
import fs from "fs";
import path from "path";

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value));
}

export function readJson<T>(file: string, what: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${what}: cannot read ${file} (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${what}: ${file} is corrupt (not valid JSON); delete it and rebuild`);
  }
}

/** Float [-1,1] -> int16 little-endian bytes. */
export function floatToPcm16(x: Float32Array): Uint8Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(x[i] * 32767)));
  return new Uint8Array(out.buffer);
}

export function pcm16ToFloat(bytes: Uint8Array, offset: number, n: number): Float32Array {
  const view = new Int16Array(bytes.buffer, bytes.byteOffset + offset * 2, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view[i] / 32767;
  return out;
}

/** Int32Array <-> plain arrays for JSON. */
export const i32 = {
  toJson: (x: Int32Array): number[] => Array.from(x),
  fromJson: (x: number[]): Int32Array => Int32Array.from(x),
};
