/**
 * WAV file reading and writing via the `wavefile` package.
 * readWav accepts any PCM/float WAV the package understands (8/16/24/32-bit int, 32/64-bit float, any
 * channel count) and returns mono Float32 samples in [-1, 1] (channels averaged).
 * writeWav writes 16-bit PCM mono; samples outside [-1, 1] are clipped.
 */
import { WaveFile } from "wavefile";

/** The fields of the wavefile `fmt` chunk that we read (the package types it as `object`). */
interface FmtChunk {
  numChannels: number;
  sampleRate: number;
  audioFormat: number;
}

/** Decode a WAV file to mono float samples. Throws naming the problem for empty or corrupt input. */
export function readWav(bytes: Uint8Array): { samples: Float32Array; sampleRate: number } {
  if (bytes.length === 0) throw new Error("readWav: the input is empty (0 bytes): pass the bytes of a .wav file");
  if (bytes.length < 44) throw new Error(`readWav: the input has only ${bytes.length} bytes, shorter than a WAV header (44): the file is truncated`);
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (e) {
    throw new Error(`readWav: not a readable WAV file (${(e as Error).message}); expected a RIFF/WAVE file with 'fmt ' and 'data' chunks`);
  }
  const fmt = wav.fmt as FmtChunk;
  if (!(fmt.numChannels >= 1)) throw new Error(`readWav: the header declares ${fmt.numChannels} channels: the file is corrupt`);
  if (!(fmt.sampleRate > 0)) throw new Error(`readWav: the header declares sample rate ${fmt.sampleRate}: the file is corrupt`);
  // float WAVs already hold [-1, 1]; integer WAVs are scaled by 2^(bits-1) (8-bit is unsigned, offset 128)
  const bits = parseInt(wav.bitDepth, 10);
  const isFloat = wav.bitDepth === "32f" || wav.bitDepth === "64";
  if (!isFloat && !(bits >= 8 && bits <= 32)) throw new Error(`readWav: unsupported bit depth '${wav.bitDepth}': convert the file to 16-bit PCM`);
  const offset = !isFloat && bits === 8 ? 128 : 0;
  const scale = isFloat ? 1 : Math.pow(2, bits - 1);
  // interleaved: [L0, R0, L1, R1, ...] for 2 channels
  const raw = wav.getSamples(true, Float64Array) as unknown as Float64Array;
  const ch = fmt.numChannels;
  if (raw.length % ch !== 0) throw new Error(`readWav: ${raw.length} samples do not divide into ${ch} channels: the data chunk is truncated`);
  const n = raw.length / ch;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let c = 0; c < ch; c++) acc += (raw[i * ch + c] - offset) / scale;
    out[i] = acc / ch;
  }
  return { samples: out, sampleRate: fmt.sampleRate };
}

/** Encode mono float samples as a 16-bit PCM WAV file. */
export function writeWav(samples: Float32Array, sampleRate: number): Uint8Array {
  if (!(sampleRate > 0) || !Number.isInteger(sampleRate)) throw new Error(`writeWav: sampleRate must be a positive integer, got ${sampleRate}`);
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const x = Math.max(-1, Math.min(1, samples[i]));
    if (Number.isNaN(x)) throw new Error(`writeWav: sample ${i} is NaN: clean the signal before writing`);
    pcm[i] = Math.round(x * 32767);
  }
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, "16", pcm);
  return wav.toBuffer();
}
