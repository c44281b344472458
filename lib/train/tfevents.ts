/**
 * TensorBoard event files written without TensorFlow, for backends where tfjs-node's `summaryFileWriter` is
 * not available (wasm, cpu, webgpu). The file is a TFRecord stream of `tensorflow.Event` protos:
 *
 *   record   uint64 LE length | uint32 LE masked crc32c(length bytes) | data | uint32 LE masked crc32c(data)
 *   masked   ((crc >>> 15) | (crc << 17)) + 0xa282ead8   (mod 2^32)
 *   Event    1: wall_time (double)  2: step (int64)  3: file_version (string)  5: summary (Summary)
 *   Summary  1: repeated Value;  Value  1: tag (string)  2: simple_value (float)
 * The first record is { wall_time, file_version: "brain.Event:2" }; then one Event per (step, scalars).
 * TensorBoard and its `EventAccumulator` read every file under the log dir whose name contains "tfevents".
 */
import fs from "fs";
import os from "os";
import path from "path";

let crcTable: Uint32Array | null = null;

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78). Example: crc32c("123456789") = 0xe3069283. */
export function crc32c(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function maskedCrc(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord around `data`. */
export function tfRecord(data: Uint8Array): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  const out = Buffer.alloc(8 + 4 + data.length + 4);
  len.copy(out, 0);
  out.writeUInt32LE(maskedCrc(len), 8);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 12);
  out.writeUInt32LE(maskedCrc(data), 12 + data.length);
  return out;
}

/** Protobuf varint of a non-negative integer below 2^53. */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function lengthDelimited(field: number, bytes: Uint8Array | number[]): number[] {
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}

function double(field: number, v: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return [(field << 3) | 1, ...b];
}

/** A serialized Event: wall time, step, and either a file version or scalar values. */
export function eventProto(e: {
  wallTime: number;
  step?: number;
  fileVersion?: string;
  scalars?: Record<string, number>;
}): Uint8Array {
  const out: number[] = double(1, e.wallTime);
  if (e.step !== undefined) {
    if (!Number.isInteger(e.step) || e.step < 0)
      throw new Error(`tfevents: step must be an integer >= 0, got ${e.step}`);
    out.push((2 << 3) | 0, ...varint(e.step));
  }
  if (e.fileVersion !== undefined) out.push(...lengthDelimited(3, Buffer.from(e.fileVersion, "utf8")));
  if (e.scalars) {
    const summary: number[] = [];
    for (const [tag, v] of Object.entries(e.scalars)) {
      const f = Buffer.alloc(4);
      f.writeFloatLE(v);
      summary.push(...lengthDelimited(1, [...lengthDelimited(1, Buffer.from(tag, "utf8")), (2 << 3) | 5, ...f]));
    }
    out.push(...lengthDelimited(5, summary));
  }
  return Uint8Array.from(out);
}

/**
 * Write one event file into `logDir` with a scalar series per tag: `points` are (step, { tag: value }); NaN and
 * infinite values are left out. Returns the file's path (events.out.tfevents.<seconds>.<host>).
 */
export function writeScalarEvents(
  logDir: string,
  points: readonly { step: number; scalars: Record<string, number> }[],
  wallTime = Date.now() / 1000,
): string {
  fs.mkdirSync(logDir, { recursive: true });
  const file = path.join(logDir, `events.out.tfevents.${Math.floor(wallTime)}.${os.hostname()}.lst-lab`);
  const records: Buffer[] = [tfRecord(eventProto({ wallTime, fileVersion: "brain.Event:2" }))];
  for (const p of points) {
    const finite: Record<string, number> = {};
    for (const [k, v] of Object.entries(p.scalars)) if (Number.isFinite(v)) finite[k] = v;
    if (Object.keys(finite).length > 0) records.push(tfRecord(eventProto({ wallTime, step: p.step, scalars: finite })));
  }
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat(records));
  fs.renameSync(tmp, file);
  return file;
}
