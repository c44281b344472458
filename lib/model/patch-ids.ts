/**
 * Patch lengths and patch ids: pure array code shared by the patching schemes (model/patching.ts), the
 * batcher (model/batch.ts) and the tests. Only speech is patched; every non-speech token (text, `<t>`, `<s>`,
 * BOS, EOS) is a patch of length 1.
 *
 * Worked example (static patches of p = 4; this exact case is a test):
 *   tokens      BOS <t> w1  w2  <s> u   u   u   u   u   u   <t> w3
 *   isSpeech     0   0   0   0   0  1   1   1   1   1   1   0   0
 *   lengths     [1,  1,  1,  1,  1, 4,              2,      1,  1]
 *   patchIds     0   1   2   3   4  5   5   5   5   6   6   7   8
 * The 6-frame speech run is cut into 4 + 2 (the last patch of a run may be short); indexing restarts at
 * every run, so a second run after `<t> w3 <s>` would again start with a full patch of 4.
 */

/** The fields of an LmSequence (lib/types.ts) that patching reads. */
export interface PatchableSequence {
  ids: Int32Array;
  isSpeech: Uint8Array;
}

/** Static patching (paper §2.1): length-1 patches for non-speech tokens, runs of `p` inside speech runs. */
export function staticPatchLengths(seq: PatchableSequence, p: number): Int32Array {
  if (!Number.isInteger(p) || p < 1)
    throw new Error(`static patch size must be a positive integer, got ${p} (the paper uses 4)`);
  return lengthsFromBoundaries(seq, (t, runStart) => (t - runStart) % p === 0);
}

/** Split every patch longer than `max` into pieces of `max` (the last may be short); max 0 = no split. */
export function splitLongPatches(lengths: Int32Array, max: number): Int32Array {
  if (max <= 0) return lengths;
  const out: number[] = [];
  for (const len of lengths) for (let s = 0; s < len; s += max) out.push(Math.min(max, len - s));
  return Int32Array.from(out);
}

/**
 * Patch lengths from per-token boundary flags: every non-speech token is its own patch; inside a speech run a
 * patch starts at the run's first frame and at every frame `t` with `starts(t, runStart)` true. Every
 * patching scheme is this walk with its own `starts` (static: every p-th frame of the run).
 * Example: isSpeech [0,1,1,1,0], starts at index 3 -> [1, 2, 1, 1].
 */
export function lengthsFromBoundaries(
  seq: PatchableSequence,
  starts: (t: number, runStart: number) => boolean,
): Int32Array {
  const n = seq.ids.length;
  if (seq.isSpeech.length !== n) throw new Error(`isSpeech has ${seq.isSpeech.length} entries for ${n} ids`);
  const out: number[] = [];
  let i = 0;
  while (i < n) {
    if (!seq.isSpeech[i]) {
      out.push(1);
      i++;
      continue;
    }
    let end = i; // end of this maximal speech run
    while (end < n && seq.isSpeech[end]) end++;
    let begin = i;
    for (let t = i + 1; t < end; t++) {
      if (starts(t, i)) {
        out.push(t - begin);
        begin = t;
      }
    }
    out.push(end - begin);
    i = end;
  }
  return Int32Array.from(out);
}

/** Patch index of every token. Example: lengths [1,2,3] -> [0,1,1,2,2,2]. */
export function patchIdsFromLengths(lengths: Int32Array): Int32Array {
  let n = 0;
  for (let j = 0; j < lengths.length; j++) {
    if (!Number.isInteger(lengths[j]) || lengths[j] < 1)
      throw new Error(`patch ${j} has length ${lengths[j]}: every patch needs at least one token`);
    n += lengths[j];
  }
  const out = new Int32Array(n);
  let t = 0;
  for (let j = 0; j < lengths.length; j++) for (let c = 0; c < lengths[j]; c++) out[t++] = j;
  return out;
}

/**
 * Throw unless `lengths` is a valid patching of `seq`: positive lengths that tile the sequence exactly, a
 * first patch of length 1 (the decoder shift of types.ts needs it: BOS is its own patch), and no patch that
 * mixes speech and non-speech tokens.
 */
export function checkPatchLengths(lengths: Int32Array, seq: PatchableSequence): void {
  const n = seq.ids.length;
  let total = 0;
  for (let j = 0; j < lengths.length; j++) {
    if (!Number.isInteger(lengths[j]) || lengths[j] < 1)
      throw new Error(`patch ${j} has length ${lengths[j]}: every patch needs at least one token`);
    total += lengths[j];
  }
  if (total !== n)
    throw new Error(`patch lengths sum to ${total} but the sequence has ${n} tokens: the patches must tile it exactly`);
  if (n > 0 && lengths[0] !== 1)
    throw new Error(
      `the first patch has length ${lengths[0]}, it must be 1 (BOS alone) for the decoder's one-patch shift`,
    );
  let t = 0;
  for (let j = 0; j < lengths.length; j++) {
    const speech = seq.isSpeech[t];
    if (!speech && lengths[j] !== 1)
      throw new Error(
        `patch ${j} (tokens ${t}..${t + lengths[j] - 1}) starts with a non-speech token but has length ${lengths[j]}: non-speech tokens are patches of length 1`,
      );
    for (let c = 1; c < lengths[j]; c++) {
      if (seq.isSpeech[t + c] !== speech) {
        throw new Error(
          `patch ${j} (tokens ${t}..${t + lengths[j] - 1}) mixes speech and non-speech tokens at token ${t + c}: cut it at the modality change`,
        );
      }
    }
    t += lengths[j];
  }
}
