/**
 * WAV file reading and writing.
 * readWav reads integer PCM (8-bit unsigned, 16/24/32-bit signed) and 32-bit IEEE float, plain or
 * WAVE_FORMAT_EXTENSIBLE, any channel count, and returns mono Float32 samples in [-1, 1] (channels averaged).
 * Everything else is refused by name rather than decoded as something it is not: A-law and mu-law (which
 * would otherwise read as 8-bit PCM, a constant offset), ADPCM, MP3, 64-bit float, odd bit depths. So is a
 * data chunk shorter than its header says (a cut file), a sample rate outside 4-384 kHz (a corrupt header), and a
 * float sample that is NaN or infinite (it would turn every feature frame of the utterance into NaN, and every
 * unit into 0).
 * writeWav writes 16-bit PCM mono via the `wavefile` package; samples outside [-1, 1] are clipped.
 *
 * Layout read (little-endian): "RIFF" size "WAVE", then chunks of (4-char id, uint32 size, data, pad byte if
 * the size is odd); "fmt " holds audioFormat u16, channels u16, sampleRate u32, byteRate u32, blockAlign u16,
 * bitsPerSample u16 (+ for 0xFFFE: cbSize, validBits, channelMask, and a GUID whose first u16 is the format).
 */
import fs from "fs";
import { WaveFile } from "wavefile";

const PCM = 1;
const FLOAT = 3;
const EXTENSIBLE = 0xfffe;
/** Names of common non-PCM WAV encodings, for the error that refuses them. */
const FORMAT_NAMES: Record<number, string> = {
  2: "Microsoft ADPCM",
  6: "A-law",
  7: "mu-law",
  0x11: "IMA ADPCM",
  0x31: "GSM 6.10",
  0x50: "MPEG",
  0x55: "MP3",
};
/**
 * Sample rates read (Hz): telephone speech (8 kHz) down to 4 kHz, studio audio up to 384 kHz. Outside it the
 * header is wrong: 1 Hz made the resampler run for over 15 minutes, 100 Hz read 1 s of audio as 160 s, and
 * 2e9 Hz resampled everything away ("the audio is empty").
 */
export const MIN_RATE = 4000;
export const MAX_RATE = 384000;
const CONVERT =
  "convert it to 16-bit PCM (e.g. `sox in.wav -e signed-integer -b 16 out.wav` or `ffmpeg -i in.wav -c:a pcm_s16le out.wav`)";

interface Fmt {
  format: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

function formatName(code: number): string {
  return FORMAT_NAMES[code] ?? `format code 0x${code.toString(16).padStart(4, "0")}`;
}

/** Decode a WAV file to mono float samples. `name` (a path) is put in every error. */
export function readWav(bytes: Uint8Array, name = "input"): { samples: Float32Array; sampleRate: number } {
  const fail = (msg: string): Error => new Error(`readWav ${name}: ${msg}`);
  if (bytes.length === 0) throw fail("the input is empty (0 bytes): pass the bytes of a .wav file");
  if (bytes.length < 44)
    throw fail(`the input has only ${bytes.length} bytes, shorter than a WAV header (44): the file is truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE")
    throw fail(
      `not a readable WAV file (starts with '${tag(0)}'...'${tag(8)}', not RIFF...WAVE); expected a RIFF/WAVE file with 'fmt ' and 'data' chunks`,
    );
  let fmt: Fmt | null = null;
  let data: { at: number; size: number } | null = null;
  for (let at = 12; at + 8 <= bytes.length && data === null;) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    if (id === "fmt ") {
      if (size < 16 || at + 8 + size > bytes.length)
        throw fail(`the 'fmt ' chunk is ${size} bytes (${bytes.length - at - 8} present): the file is corrupt`);
      let format = view.getUint16(at + 8, true);
      if (format === EXTENSIBLE && size >= 40) format = view.getUint16(at + 8 + 24, true); // the GUID's first u16
      fmt = {
        format,
        channels: view.getUint16(at + 10, true),
        sampleRate: view.getUint32(at + 12, true),
        blockAlign: view.getUint16(at + 20, true),
        bits: view.getUint16(at + 22, true),
      };
    } else if (id === "data") {
      data = { at: at + 8, size };
    }
    at += 8 + size + (size % 2);
  }
  if (fmt === null)
    throw fail(
      "no 'fmt ' chunk before the audio: not a readable WAV file; expected a RIFF/WAVE file with 'fmt ' and 'data' chunks",
    );
  if (data === null)
    throw fail("no 'data' chunk: not a readable WAV file; expected a RIFF/WAVE file with 'fmt ' and 'data' chunks");
  const { format, channels, sampleRate, bits } = fmt;
  if (format !== PCM && format !== FLOAT)
    throw fail(`${formatName(format)} audio is not supported (only integer PCM and 32-bit float): ${CONVERT}`);
  if (format === PCM && ![8, 16, 24, 32].includes(bits))
    throw fail(`unsupported bit depth ${bits} for PCM (8, 16, 24 or 32): ${CONVERT}`);
  if (format === FLOAT && bits !== 32)
    throw fail(`unsupported float bit depth ${bits} (only 32-bit float): ${CONVERT}`);
  if (!(channels >= 1)) throw fail(`the header declares ${channels} channels: the file is corrupt`);
  if (!(sampleRate >= MIN_RATE && sampleRate <= MAX_RATE))
    throw fail(
      `the header declares a sample rate of ${sampleRate} Hz, outside ${MIN_RATE / 1000}-${MAX_RATE / 1000} kHz: the header is corrupt or the file is not speech audio; re-export it at 16 kHz (\`sox in.wav -r 16000 out.wav\` or \`ffmpeg -i in.wav -ar 16000 out.wav\`)`,
    );
  const width = bits / 8;
  const frame = width * channels;
  const present = bytes.length - data.at;
  if (data.size > present)
    throw fail(
      `the data chunk declares ${data.size} bytes but only ${present} are present: the file is truncated (re-export or re-download it)`,
    );
  if (data.size % frame !== 0)
    throw fail(
      `the data chunk's ${data.size} bytes are not whole frames of ${frame} bytes (${channels} channels x ${bits} bits): the file is truncated or corrupt`,
    );
  const n = data.size / frame;
  if (n === 0) throw fail("the data chunk holds no samples: the file has no audio");
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let c = 0; c < channels; c++) {
      const p = data.at + i * frame + c * width;
      let x: number;
      if (format === FLOAT) {
        x = view.getFloat32(p, true);
        if (!Number.isFinite(x))
          throw fail(
            `sample ${i} (channel ${c}) is ${x}: the float audio holds non-finite values; clean or re-export it`,
          );
      } else if (bits === 8)
        x = (bytes[p] - 128) / 128; // 8-bit PCM is unsigned
      else if (bits === 16) x = view.getInt16(p, true) / 32768;
      else if (bits === 24) x = (((bytes[p + 2] << 24) | (bytes[p + 1] << 16) | (bytes[p] << 8)) >> 8) / 8388608;
      else x = view.getInt32(p, true) / 2147483648;
      acc += x;
    }
    out[i] = acc / channels;
  }
  return { samples: out, sampleRate };
}

/** Read a .wav file from disk (readWav with the path in every error). */
export function readWavFile(file: string): { samples: Float32Array; sampleRate: number } {
  if (!fs.existsSync(file)) throw new Error(`readWav ${file}: the file does not exist: check the path`);
  return readWav(new Uint8Array(fs.readFileSync(file)), file);
}

/** Encode mono float samples as a 16-bit PCM WAV file. */
export function writeWav(samples: Float32Array, sampleRate: number): Uint8Array {
  if (!(sampleRate > 0) || !Number.isInteger(sampleRate))
    throw new Error(`writeWav: sampleRate must be a positive integer, got ${sampleRate}`);
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
