/**
 * The text BPE as a Hugging Face `tokenizer.json` (the `tokenizers` library, transformers, transformers.js),
 * and the lab-side encoding that matches it when special tokens appear in the text.
 *
 * The lab's BPE is GPT-2's byte-level BPE, so the export is the standard byte-level pipeline:
 *   added_tokens   the specials <pad> <bos> <eos> <t> <s> with ids 0..4 (matched in the input text as is)
 *   pre_tokenizer  ByteLevel (GPT-2's split regex, the same as bpe.ts's PRE_TOKEN; no prefix space)
 *   model          BPE: vocab = every token's bytes in GPT-2's byte-to-unicode alphabet -> id,
 *                  merges = the lab's merges in rank order ("a b" strings of the two parts)
 *   decoder        ByteLevel
 * Ids are the lab's ids: byte b is id 5 + b, merge i is id 261 + i.
 *
 * The lab's `encode` treats "<bos>" in the input as plain text; Hugging Face's added tokens match it.
 * `encodeWithSpecials` splits on the specials' names first, as Hugging Face does, so both give the same ids.
 * Example: encodeWithSpecials(bpe, "<bos>hi<eos>") = [1, ...bpe.encode("hi"), 2].
 *
 * Not representable: two merges that build the same byte string (a Hugging Face vocab maps each string to one
 * id); the export throws naming them. Strings with lone surrogates have no UTF-8 form for Hugging Face.
 */
import fs from "fs";
import type { BpeTokenizer } from "./bpe";
import { N_SPECIAL, SPECIAL_NAMES } from "./special";

/**
 * GPT-2's map from bytes to printable unicode chars: printable Latin-1 bytes map to themselves, the other
 * 68 bytes to U+0100 onwards in byte order. Example: byte 0x20 (space) -> "Ġ" (U+0120), 0x0A -> "Ċ".
 */
export function byteToUnicode(): string[] {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) out.push(keep(b) ? String.fromCharCode(b) : String.fromCharCode(256 + next++));
  return out;
}

/** The tokenizer.json object of a lab BPE (see the top of the file). */
export function bpeToHuggingFace(bpe: BpeTokenizer): Record<string, unknown> {
  const b2u = byteToUnicode();
  const tokens: string[] = []; // by id - N_SPECIAL
  for (let b = 0; b < 256; b++) tokens.push(b2u[b]);
  const merges: string[] = [];
  bpe.merges.forEach(([a, b]) => {
    merges.push(`${tokens[a - N_SPECIAL]} ${tokens[b - N_SPECIAL]}`);
    tokens.push(tokens[a - N_SPECIAL] + tokens[b - N_SPECIAL]);
  });
  const vocab: Record<string, number> = {};
  SPECIAL_NAMES.forEach((name, id) => (vocab[name] = id));
  tokens.forEach((t, i) => {
    const id = N_SPECIAL + i;
    if (t in vocab) {
      throw new Error(
        `the text BPE's ids ${vocab[t]} and ${id} are both the bytes ${JSON.stringify(t)}: a tokenizer.json vocab holds each string once, so this BPE cannot be exported; retrain it (a different vocab size or corpus)`,
      );
    }
    vocab[t] = id;
  });
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_NAMES.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

/** Write `tokenizer.json` for a lab BPE (atomically: a temporary name, then a rename). */
export function saveHuggingFaceTokenizer(bpe: BpeTokenizer, file: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(bpeToHuggingFace(bpe)));
  fs.renameSync(tmp, file);
}

/**
 * Encode text whose special-token names ("<bos>", "<eos>", "<t>", "<s>", "<pad>") stand for the specials, as
 * Hugging Face's added tokens do: the text is cut at every special's name (leftmost first, the longest name on
 * a tie) and the pieces between are encoded by the BPE on their own.
 */
export function encodeWithSpecials(bpe: BpeTokenizer, text: string): number[] {
  const out: number[] = [];
  let rest = text;
  for (;;) {
    let at = -1;
    let id = -1;
    SPECIAL_NAMES.forEach((name, i) => {
      const k = rest.indexOf(name);
      if (k >= 0 && (at < 0 || k < at || (k === at && name.length > SPECIAL_NAMES[id].length))) {
        at = k;
        id = i;
      }
    });
    if (at < 0) break;
    if (at > 0) for (const t of bpe.encode(rest.slice(0, at))) out.push(t);
    out.push(id);
    rest = rest.slice(at + SPECIAL_NAMES[id].length);
  }
  if (rest.length > 0) for (const t of bpe.encode(rest)) out.push(t);
  return out;
}
