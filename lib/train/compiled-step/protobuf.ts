/**
 * A hand-written protobuf encoder for the few TensorFlow messages a compiled step needs: GraphDef, NodeDef,
 * AttrValue, TensorProto, TensorShapeProto, MetaGraphDef and SavedModel (field numbers from TF's
 * graph.proto, node_def.proto, attr_value.proto, tensor.proto, tensor_shape.proto, meta_graph.proto and
 * saved_model.proto). Encode only: TF reads the bytes.
 *
 * Wire format: every field is a key varint `(field << 3) | wire`, wire 0 = varint, 2 = length-delimited
 * (bytes, strings, sub-messages, packed repeated numbers), 5 = 32-bit (floats). Map entries (NodeDef.attr)
 * are sub-messages with key = 1, value = 2.
 *
 * Worked example (also a test): the NodeDef { name: "a", op: "Add", input: ["x", "y:1"] } with no attrs is
 *   0a 01 61            field 1 (name), length 1, "a"
 *   12 03 41 64 64      field 2 (op), length 3, "Add"
 *   1a 01 78            field 3 (input), "x"
 *   1a 03 79 3a 31      field 3 (input), "y:1"
 * and the attr T = DT_FLOAT (type 1) adds the map entry 2a 07 | 0a 01 54 | 12 02 30 01 (key "T", AttrValue
 * field 6 = type, varint 1).
 */

/** An AttrValue: exactly one of these fields (the proto's oneof). */
export type AttrValue =
  | { s: string }
  | { i: number }
  | { f: number }
  | { b: boolean }
  | { type: number }
  | { shape: readonly number[] }
  | { tensor: TensorValue }
  | { list: { s?: string[]; i?: number[]; f?: number[]; b?: boolean[]; type?: number[]; shape?: number[][] } };

/** A dense tensor: TF dtype enum (DT_FLOAT 1, DT_INT32 3, DT_INT64 9, DT_BOOL 10), shape, little-endian bytes. */
export interface TensorValue {
  dtype: number;
  shape: readonly number[];
  content: Uint8Array;
}

export interface NodeDef {
  name: string;
  op: string;
  /** "node", "node:k" for output k, "^node" for a control input */
  input: string[];
  attr: Record<string, AttrValue>;
}

const utf8 = new TextEncoder();

/** Bytes in pieces, concatenated once at the end (graphs reach a few MiB). */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private buf: number[] = [];
  private size = 0;

  private flush(): void {
    if (this.buf.length === 0) return;
    this.parts.push(Uint8Array.from(this.buf));
    this.size += this.buf.length;
    this.buf = [];
  }

  /** An unsigned varint; a negative int64 takes its 64-bit two's complement (10 bytes), as protobuf does. */
  varint(n: number | bigint): this {
    let v = typeof n === "bigint" ? n : BigInt(Math.trunc(n));
    if (v < BigInt(0)) v = BigInt.asUintN(64, v);
    const lo = BigInt(0x7f);
    while (v > lo) {
      this.buf.push(Number(v & lo) | 0x80);
      v >>= BigInt(7);
    }
    this.buf.push(Number(v));
    return this;
  }

  key(field: number, wire: 0 | 2 | 5): this {
    return this.varint((field << 3) | wire);
  }

  raw(bytes: Uint8Array): this {
    this.flush();
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }

  /** A length-delimited field: bytes, a string or an encoded sub-message. */
  bytes(field: number, b: Uint8Array | string): this {
    const bytes = typeof b === "string" ? utf8.encode(b) : b;
    return this.key(field, 2).varint(bytes.length).raw(bytes);
  }

  uint(field: number, n: number): this {
    return this.key(field, 0).varint(n);
  }

  float(field: number, x: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, x, true);
    return this.key(field, 5).raw(b);
  }

  /** A packed repeated varint field (proto3's default for repeated scalars). */
  packed(field: number, xs: readonly (number | boolean)[]): this {
    const inner = new Writer();
    for (const x of xs) inner.varint(typeof x === "boolean" ? Number(x) : x);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    this.flush();
    if (this.parts.length === 1) return this.parts[0];
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** TensorShapeProto: dim = 2 (Dim: size = 1). A scalar has no dims. */
export function encodeShape(shape: readonly number[]): Uint8Array {
  const w = new Writer();
  for (const d of shape) w.bytes(2, new Writer().uint(1, d).finish());
  return w.finish();
}

/** TensorProto: dtype = 1, tensor_shape = 2, tensor_content = 4. */
export function encodeTensor(t: TensorValue): Uint8Array {
  return new Writer().uint(1, t.dtype).bytes(2, encodeShape(t.shape)).bytes(4, t.content).finish();
}

/** AttrValue: list = 1 (ListValue: s 2, i 3, f 4, b 5, type 6, shape 7), s 2, i 3, f 4, b 5, type 6, shape 7, tensor 8. */
export function encodeAttr(a: AttrValue): Uint8Array {
  const w = new Writer();
  if ("s" in a) w.bytes(2, a.s);
  else if ("i" in a) w.uint(3, a.i);
  else if ("f" in a) w.float(4, a.f);
  else if ("b" in a) w.uint(5, Number(a.b));
  else if ("type" in a) w.uint(6, a.type);
  else if ("shape" in a) w.bytes(7, encodeShape(a.shape));
  else if ("tensor" in a) w.bytes(8, encodeTensor(a.tensor));
  else {
    const l = new Writer();
    const { s, i, f, b, type, shape } = a.list;
    for (const x of s ?? []) l.bytes(2, x);
    if (i?.length) l.packed(3, i);
    if (f?.length) {
      const fb = new Uint8Array(4 * f.length);
      const dv = new DataView(fb.buffer);
      f.forEach((x, k) => dv.setFloat32(4 * k, x, true));
      l.bytes(4, fb);
    }
    if (b?.length) l.packed(5, b);
    if (type?.length) l.packed(6, type);
    for (const sh of shape ?? []) l.bytes(7, encodeShape(sh));
    w.bytes(1, l.finish());
  }
  return w.finish();
}

/** NodeDef: name = 1, op = 2, input = 3, attr = 5 (map entries, keys sorted so the bytes are deterministic). */
export function encodeNode(n: NodeDef): Uint8Array {
  const w = new Writer().bytes(1, n.name).bytes(2, n.op);
  for (const i of n.input) w.bytes(3, i);
  for (const k of Object.keys(n.attr).sort()) {
    w.bytes(5, new Writer().bytes(1, k).bytes(2, encodeAttr(n.attr[k])).finish());
  }
  return w.finish();
}

/** GraphDef: node = 1, versions = 4 (VersionDef: producer = 1). */
export function encodeGraph(nodes: readonly NodeDef[], producer: number): Uint8Array {
  const w = new Writer();
  for (const n of nodes) w.bytes(1, encodeNode(n));
  return w.bytes(4, new Writer().uint(1, producer).finish()).finish();
}

/**
 * SavedModel (saved_model_schema_version = 1, meta_graphs = 2) holding one MetaGraphDef (meta_info_def = 1
 * with tags = 4; graph_def = 2): no variables, no signatures, which TF_LoadSessionFromSavedModel accepts.
 */
export function encodeSavedModel(graph: Uint8Array, tags: readonly string[]): Uint8Array {
  const info = new Writer();
  for (const t of tags) info.bytes(4, t);
  const meta = new Writer().bytes(1, info.finish()).bytes(2, graph).finish();
  return new Writer().uint(1, 1).bytes(2, meta).finish();
}
