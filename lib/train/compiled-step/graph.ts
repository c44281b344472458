/**
 * A trace (trace.ts) as a TensorFlow graph in a session: `emitGraph` writes the NodeDefs, `StepGraph` writes
 * them as a SavedModel in a temp dir, loads it with the binding's `loadSavedModel` (TF_LoadSessionFromSavedModel)
 * and runs it with `runSavedModel` (TF_SessionRun), feeding and fetching nodes by name.
 *
 * Node names: `s<k>` state Placeholders, `m<k>` made tensors (Placeholder when fed, else Const), `e<k>` the
 * constants that existed before the step, `o<k>` the traced ops, `out<k>` an Identity per output. Shapes are
 * static (a graph serves one shape signature), so grappler can fold and fuse with them.
 *
 * XLA (`xla: true`): every op node gets `_XlaCompile` = true and one `_XlaScope`, so TF's mark-for-compilation
 * pass may put the whole step in one cluster (the binding loads sessions with default options; this is the
 * only per-graph way to ask for XLA without a native change).
 */
import fs from "fs";
import os from "os";
import path from "path";
import { encodeGraph, encodeSavedModel, type AttrValue, type NodeDef } from "./protobuf";
import { hostBytes, type Binding, type NodeBackend, type OpAttr, type TensorMeta } from "./native";
import type { Ref, Trace } from "./trace";

/** TF_GRAPH_DEF_VERSION of the libtensorflow the lab builds against (2.21; core/public/version.h). */
const GRAPH_PRODUCER = 2474;

/** The AttrValue of an eager op attr (binding TF_ATTR_* codes; a list where the value is an array). */
export function attrValue(b: Binding, a: OpAttr): AttrValue {
  const v = a.value;
  const list = Array.isArray(v);
  switch (a.type) {
    case b.TF_ATTR_TYPE:
      return list ? { list: { type: v as number[] } } : { type: v as number };
    case b.TF_ATTR_INT:
      return list ? { list: { i: v as number[] } } : { i: v as number };
    case b.TF_ATTR_FLOAT:
      return list ? { list: { f: v as number[] } } : { f: v as number };
    case b.TF_ATTR_BOOL:
      return list ? { list: { b: v as unknown as boolean[] } } : { b: v as boolean };
    case b.TF_ATTR_STRING:
      return list ? { list: { s: v as unknown as string[] } } : { s: v as string };
    case b.TF_ATTR_SHAPE:
      return { shape: v as number[] };
    default:
      throw new Error(
        `compiled step: attr '${a.name}' has type code ${a.type}, which the graph writer does not handle`,
      );
  }
}

const refName = (r: Ref): string =>
  r.k === "op"
    ? r.out === 0
      ? `o${r.op}`
      : `o${r.op}:${r.out}`
    : r.k === "state"
      ? `s${r.slot}`
      : r.k === "made"
        ? `m${r.at}`
        : `e${r.at}`;

/** The dtype of what a ref names. */
function refDtype(t: Trace, r: Ref): number {
  if (r.k === "op") return t.ops[r.op].outputs[r.out].dtype;
  if (r.k === "state") return t.state[r.slot].dtype;
  return r.k === "made" ? t.made[r.at].dtype : t.ext[r.at].dtype;
}

/** The NodeDefs of a trace; the made tensors in `fed` become Placeholders, the other ones Consts. */
export function emitGraph(b: Binding, trace: Trace, fed: ReadonlySet<number>, opts: { xla?: boolean } = {}): NodeDef[] {
  const nodes: NodeDef[] = [];
  const placeholder = (name: string, dtype: number, shape: number[]): NodeDef => ({
    name,
    op: "Placeholder",
    input: [],
    attr: { dtype: { type: dtype }, shape: { shape } },
  });
  const constant = (name: string, t: { dtype: number; shape: number[]; values: Parameters<typeof hostBytes>[0] }) => ({
    name,
    op: "Const",
    input: [],
    attr: {
      dtype: { type: t.dtype },
      value: { tensor: { dtype: t.dtype, shape: t.shape, content: hostBytes(t.values) } },
    },
  });
  trace.state.forEach((s, k) => nodes.push(placeholder(`s${k}`, s.dtype, s.shape)));
  trace.made.forEach((m, k) => nodes.push(fed.has(k) ? placeholder(`m${k}`, m.dtype, m.shape) : constant(`m${k}`, m)));
  trace.ext.forEach((e, k) => nodes.push(constant(`e${k}`, e)));
  const xla: Record<string, AttrValue> = opts.xla ? { _XlaCompile: { b: true }, _XlaScope: { s: "lst_step" } } : {};
  trace.ops.forEach((o, k) => {
    const attr: Record<string, AttrValue> = { ...xla };
    for (const a of o.attrs) attr[a.name] = attrValue(b, a);
    nodes.push({ name: `o${k}`, op: o.op, input: o.inputs.map(refName), attr });
  });
  trace.outputs.forEach((r, k) =>
    nodes.push({ name: `out${k}`, op: "Identity", input: [refName(r)], attr: { T: { type: refDtype(trace, r) } } }),
  );
  return nodes;
}

/** Times of a graph's preparation (ms) and its size. */
export interface GraphCost {
  nodes: number;
  bytes: number;
  writeMs: number;
  loadMs: number;
}

/** One trace loaded in a session: `run` feeds the state ids and the fed made ids and returns the outputs. */
export class StepGraph {
  readonly fedList: number[];
  readonly cost: GraphCost;
  private id: number;
  private readonly inputNames: string;
  private readonly outputNames: string;

  constructor(
    private readonly be: NodeBackend,
    readonly trace: Trace,
    readonly fed: ReadonlySet<number>,
    opts: { xla?: boolean } = {},
  ) {
    const t0 = performance.now();
    const nodes = emitGraph(be.binding, trace, fed, opts);
    const pb = encodeSavedModel(encodeGraph(nodes, GRAPH_PRODUCER), ["serve"]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lst-step-graph-"));
    try {
      fs.writeFileSync(path.join(dir, "saved_model.pb"), pb);
      const t1 = performance.now();
      this.id = be.binding.loadSavedModel(dir, "serve");
      this.cost = { nodes: nodes.length, bytes: pb.length, writeMs: t1 - t0, loadMs: performance.now() - t1 };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    this.fedList = [...fed].sort((a, b) => a - b);
    this.inputNames = [...trace.state.map((_, k) => `s${k}`), ...this.fedList.map((k) => `m${k}`)].join(",");
    this.outputNames = trace.outputs.map((_, k) => `out${k}`).join(",");
  }

  /**
   * One session run: state ids in slot order, then the made ids (all of them, indexed as in the trace).
   * `fetch` (output indices) runs only what those outputs need: TF prunes the rest of the graph.
   */
  run(stateIds: number[], madeIds: number[], fetch?: readonly number[]): TensorMeta[] {
    if (this.id < 0) throw new Error("compiled step: the graph was disposed");
    const ids = [...stateIds, ...this.fedList.map((k) => madeIds[k])];
    const outs = fetch ? fetch.map((k) => `out${k}`).join(",") : this.outputNames;
    return this.be.binding.runSavedModel(this.id, ids, this.inputNames, outs);
  }

  dispose(): void {
    if (this.id >= 0) this.be.binding.deleteSavedModel(this.id);
    this.id = -1;
  }
}
