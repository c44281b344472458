/**
 * Data-specific encodings of the dataset cache: int16 PCM shards for synthesized audio and Int32Array <-> JSON.
 * The generic atomic file helpers (writeFileAtomic, writeJsonAtomic, readJson) live in lib/files.ts.
 */

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
  /** subtle: Int32Array.from turns NaN, null and 1.5 into 0 and 1 silently; a cache holding them is corrupt */
  fromJson: (x: number[]): Int32Array => {
    const bad = x.findIndex((v) => !Number.isInteger(v));
    if (bad >= 0) throw new Error(`token ids hold ${JSON.stringify(x[bad])} at index ${bad}, not an integer id: the cache file is corrupt; delete it and rebuild`);
    return Int32Array.from(x);
  },
};
