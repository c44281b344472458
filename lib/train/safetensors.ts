/**
 * The safetensors format (Hugging Face), written and read without a dependency:
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  JSON header: { "<name>": { "dtype": "F32", "shape": [r, c], "data_offsets": [begin, end] }, ...,
 *              "__metadata__": { "<key>": "<string value>" } }   (offsets are bytes into the data section)
 *   [rest]     the data section: every tensor's raw little-endian values, row-major, back to back
 *
 * The header is padded with spaces to a multiple of 8 bytes, so the data section starts 8-aligned (what the
 * Rust reader prefers). Tensors are laid out in the order given, with no gaps; the reader checks that the
 * offsets tile the data section exactly (the format's own validity rule) and that sizes match dtype x shape.
 *
 * Worked example: one F32 tensor "w" of shape [2] = [1, 2] and no metadata:
 *   header  {"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   54 bytes, padded with two spaces to 56
 *   file    38 00 00 00 00 00 00 00 | the 56 header bytes | 00 00 80 3f 00 00 00 40        (72 bytes)
 */
import fs from "fs";
import { writeFileDurable } from "../files";

export type SafetensorsDtype = "F32" | "F64" | "I32" | "U8";

/** A tensor as the format stores it: dtype, shape and the typed values (row-major). */
export interface SafeTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F64: 8, I32: 4, U8: 1 };

function checkTensor(name: string, t: SafeTensor): void {
  if (!(t.dtype in BYTES))
    throw new Error(
      `safetensors: tensor '${name}' has dtype '${t.dtype}'; this writer supports ${Object.keys(BYTES).join(", ")}`,
    );
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || n !== t.data.length) {
    throw new Error(
      `safetensors: tensor '${name}' has shape [${t.shape}] (${n} values) but ${t.data.length} values: pass the shape of the data`,
    );
  }
  const ok =
    (t.dtype === "F32" && t.data instanceof Float32Array) ||
    (t.dtype === "F64" && t.data instanceof Float64Array) ||
    (t.dtype === "I32" && t.data instanceof Int32Array) ||
    (t.dtype === "U8" && t.data instanceof Uint8Array);
  if (!ok)
    throw new Error(`safetensors: tensor '${name}' is declared ${t.dtype} but holds a ${t.data.constructor.name}`);
}

/** Encode tensors (in the given order) and string metadata into one safetensors buffer. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafeTensor>,
  metadata: Record<string, string> = {},
): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== "string")
        throw new Error(
          `safetensors: metadata '${k}' must be a string (the format allows only strings), got ${typeof v}: JSON.stringify it`,
        );
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "__metadata__") throw new Error("safetensors: '__metadata__' is reserved and cannot name a tensor");
    checkTensor(name, t);
    const bytes = t.data.length * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), "utf8");
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let at = 8 + json.length;
  for (const t of tensors.values()) {
    const src = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    // subtle: typed arrays are in the platform's byte order; safetensors is little-endian
    src.copy(out, at);
    if (!isLittleEndian()) swapInPlace(out.subarray(at, at + src.length), BYTES[t.dtype]);
    at += src.length;
  }
  return out;
}

/** Decode a safetensors buffer; tensors come back in data order, with their own (aligned) copies of the values. */
export function decodeSafetensors(
  buf: Buffer,
  what = "safetensors data",
): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (buf.length < 8)
    throw new Error(`${what} is ${buf.length} bytes, shorter than the 8-byte header length: not a safetensors file`);
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length)
    throw new Error(
      `${what}: header length ${n} runs past the end of the ${buf.length}-byte file: truncated or not safetensors`,
    );
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${what}: the header is not JSON (${(e as Error).message}): not a safetensors file`);
  }
  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries = Object.entries(header)
    .filter(([k]) => k !== "__metadata__")
    .map(([name, v]) => ({
      name,
      ...(v as { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] }),
    }))
    .sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
  const tensors = new Map<string, SafeTensor>();
  let expect = 0;
  for (const e of entries) {
    const size = BYTES[e.dtype];
    if (size === undefined)
      throw new Error(
        `${what}: tensor '${e.name}' has dtype '${e.dtype}', which this reader does not support (${Object.keys(BYTES).join(", ")})`,
      );
    const [b, end] = e.data_offsets;
    const count = e.shape.reduce((x, y) => x * y, 1);
    if (b !== expect || end - b !== count * size || end > dataLen) {
      throw new Error(
        `${what}: tensor '${e.name}' has data_offsets [${b}, ${end}] for ${e.dtype} [${e.shape}]; expected [${expect}, ${expect + count * size}] within ${dataLen} data bytes: the file is corrupt`,
      );
    }
    expect = end;
    const bytes = Buffer.from(buf.subarray(dataStart + b, dataStart + end)); // a copy: aligned, and owned
    if (!isLittleEndian()) swapInPlace(bytes, size);
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const data =
      e.dtype === "F32"
        ? new Float32Array(ab)
        : e.dtype === "F64"
          ? new Float64Array(ab)
          : e.dtype === "I32"
            ? new Int32Array(ab)
            : new Uint8Array(ab);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape.slice(), data });
  }
  if (expect !== dataLen)
    throw new Error(`${what}: the tensors cover ${expect} of ${dataLen} data bytes: the file is corrupt`);
  return { tensors, metadata };
}

/**
 * Write a safetensors file atomically and durably (lib/files.ts writeFileDurable: temp file, fsync, rename; a
 * crash never leaves half a file, a failed write, a full disk, removes its temp file and names the path and
 * the fix).
 */
export function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, SafeTensor>,
  metadata: Record<string, string> = {},
): void {
  writeFileDurable(file, encodeSafetensors(tensors, metadata));
}

/**
 * The metadata of a safetensors file, read from its header alone (not the tensors). Throws when the file is
 * missing, its header does not parse, or its size is not what the header's tensors add up to (truncated).
 */
export function readSafetensorsMetadata(file: string): Record<string, string> {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(8);
    if (size < 8 || fs.readSync(fd, head, 0, 8, 0) !== 8)
      throw new Error(`${file} is ${size} bytes, shorter than the 8-byte header length: not a safetensors file`);
    const n = Number(head.readBigUInt64LE(0));
    if (8 + n > size) throw new Error(`${file}: header length ${n} runs past the end of the ${size}-byte file`);
    const json = Buffer.alloc(n);
    fs.readSync(fd, json, 0, n, 8);
    const header = JSON.parse(json.toString("utf8")) as Record<string, { data_offsets?: [number, number] }>;
    let end = 0;
    for (const [k, v] of Object.entries(header))
      if (k !== "__metadata__") end = Math.max(end, v.data_offsets?.[1] ?? 0);
    if (8 + n + end !== size)
      throw new Error(`${file} is ${size} bytes but its header describes ${8 + n + end}: truncated or corrupt`);
    return (header.__metadata__ ?? {}) as unknown as Record<string, string>;
  } finally {
    fs.closeSync(fd);
  }
}

export function readSafetensors(file: string): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (!fs.existsSync(file))
    throw new Error(
      `safetensors file ${file} does not exist: export the model first (lab exportModel, or scripts/export.ts <run dir>)`,
    );
  return decodeSafetensors(fs.readFileSync(file), file);
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function swapInPlace(b: Buffer, size: number): void {
  if (size === 4) b.swap32();
  else if (size === 8) b.swap64();
}
