/** Types of scripts/tfjs-wheel-build.mjs (plain JS so that the postinstall runs without tsx). */
export interface RunResult {
  ok: boolean;
  out: string;
  stdout: string;
  stderr: string;
  status: number | null;
  code?: string;
}
export interface Requirement {
  name: string;
  requirement: string;
  marker: string;
}
export type MarkerEnvironment = Record<string, string>;
export interface BuildResult {
  ok: boolean;
  why?: string;
  cudaLibDirs: string[];
  runpath: string;
}

export const TF_WHEEL_VERSION: string;
export const WHEEL_CACHE: string;
export function run(cmd: string, args: readonly string[], opts?: Record<string, unknown>): RunResult;
export function tail(text: string, n?: number): string;
export function findPython(): string | null;
export function findWheel(dir: string, dist: string, version: string): string | null;
export function pipDownload(
  py: string,
  reqs: readonly string[],
  dir: string,
  opts?: { deps?: boolean; timeout?: number },
): RunResult;
export function wheelsIn(dir: string): string[];
export function readWheelMetadata(py: string, wheel: string): string;
export function markerEnvironment(pythonVersion?: string): MarkerEnvironment;
export function evaluateMarker(marker: string, env: MarkerEnvironment): boolean;
export function parseRequiresDist(metadata: string): Requirement[];
export function extraRequirements(metadata: string, extra: string, env?: MarkerEnvironment): Requirement[];
export function checkNative(
  root: string,
  pkgName: string,
  opts?: { env?: NodeJS.ProcessEnv; timeout?: number },
): { ok: boolean; why?: string; out: string };
export function findPatchelf(): string | null;
export function readRunpath(file: string): string[];
export function buildBinding(opts: {
  pkg: string;
  root: string;
  py: string;
  wheel: string;
  cudaWheels?: readonly string[];
  log?: (msg: string) => void;
}): BuildResult;
