/**
 * Text to bytes for the byte-level BPE (bpe.ts): GPT-2's pre-tokenization (pieces that tile the text, a
 * leading space belonging to the word) and WTF-8, UTF-8 that also encodes lone surrogates, so that every JS
 * string survives encode -> decode, with the char offsets of each byte boundary for token-to-word alignment.
 */

/** GPT-2's pre-tokenizer: contractions, optional space + letters / digits / other, whitespace runs. */
const PRE_TOKEN = /'(?:s|t|re|ve|m|ll|d)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * Split text into pre-tokens with their start offsets; the pieces tile the text exactly.
 * Example: preTokenize("the cat,  sat") ->
 *   [["the",0], [" cat",3], [",",7], [" ",8], [" sat",9]]   (a run of spaces keeps its last space for the word)
 */
export function preTokenize(text: string): [string, number][] {
  const out: [string, number][] = [];
  let end = 0;
  for (const m of text.matchAll(PRE_TOKEN)) {
    const at = m.index ?? -1;
    if (at !== end)
      throw new Error(
        `preTokenize: gap at char ${end} of ${JSON.stringify(text.slice(0, 40))} (internal error: the split pattern must cover every char)`,
      );
    out.push([m[0], at]);
    end = at + m[0].length;
  }
  if (end !== text.length) throw new Error(`preTokenize: text not covered after char ${end} (internal error)`);
  return out;
}

/**
 * WTF-8 bytes of a string, and for each byte boundary k the number of UTF-16 chars whose last byte lies
 * before k (so a token over bytes [i, j) covers chars [done[i], done[j]): a char belongs to the token
 * holding its last byte). Example: "é!" -> bytes [0xC3, 0xA9, 0x21], done [0, 0, 1, 2].
 */
export function utf8WithOffsets(s: string): { bytes: number[]; done: number[] } {
  const bytes: number[] = [];
  const done: number[] = [0];
  let chars = 0;
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    let units = 1;
    // subtle: a valid surrogate pair is one code point (4 bytes); a lone surrogate is encoded on its own (3 bytes)
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        units = 2;
        i++;
      }
    }
    const start = bytes.length;
    if (cp < 0x80) bytes.push(cp);
    else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    for (let k = start + 1; k < bytes.length; k++) done.push(chars);
    chars += units;
    done.push(chars);
  }
  return { bytes, done };
}

/** Decode WTF-8 bytes; an invalid sequence (only reachable from arbitrary ids) becomes U+FFFD per byte. */
export function decodeWtf8(bytes: ArrayLike<number>): string {
  const units: number[] = [];
  const n = bytes.length;
  let i = 0;
  const cont = (k: number): boolean => k < n && (bytes[k] & 0xc0) === 0x80;
  while (i < n) {
    const b = bytes[i];
    let cp = -1;
    let len = 1;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b < 0xe0 && cont(i + 1)) {
      cp = ((b & 31) << 6) | (bytes[i + 1] & 63);
      len = 2;
    } else if (b >= 0xe0 && b < 0xf0 && cont(i + 1) && cont(i + 2)) {
      cp = ((b & 15) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63);
      len = 3;
      if (cp < 0x800) cp = -1; // overlong
    } else if (b >= 0xf0 && b < 0xf5 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      cp = ((b & 7) << 18) | ((bytes[i + 1] & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63);
      len = 4;
      if (cp < 0x10000 || cp > 0x10ffff) cp = -1;
    }
    if (cp < 0) {
      units.push(0xfffd);
      i += 1;
      continue;
    }
    if (cp >= 0x10000) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 1023));
    else units.push(cp);
    i += len;
  }
  let s = "";
  for (let k = 0; k < units.length; k += 8192) s += String.fromCharCode(...units.slice(k, k + 8192));
  return s;
}
