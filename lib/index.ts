/**
 * LST Lab: the public entry. Notebooks and scripts import only this file.
 * Data flows one way: audio/text -> tokenizers -> data -> model -> train/eval -> lab.
 */
export { initBackend, backendReport, describeBackend, tf, BACKENDS } from "./backend";
export type { BackendName, BackendReport } from "./backend";
export { resolveConfig, parseCliOverrides, configHash, canonicalJson } from "./config";
export type { DeepPartial } from "./config";
export * from "./tokenizers/special";
export type * from "./data/types";
export type * from "./model/types";
