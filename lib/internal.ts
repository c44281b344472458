/**
 * The second entry, for scripts/ and bench/ only (notebooks import lib/index.ts, the public entry): the few
 * internals a command-line tool needs that a notebook never does, such as the flag parser, the run lock, the
 * notebook runner, the kernelspec installer and the synthetic data source of `scripts/train.ts --data=synthetic`.
 * Everything else a script uses comes from lib/index.ts. test/architecture/import-rules.test.ts checks that
 * scripts/ and bench/ import lib/ only through these two files.
 */
export { checkDeviceErrors, readsAreAsync } from "./backend";
export { readSubmission } from "./experiment/grid-jobs";
export { lockNow } from "./experiment/lock";
export type { HeldLock } from "./experiment/lock";
export { experimentModelConfig } from "./experiment/study";
export type { BatchRow } from "./model/batch";
export { LstLM } from "./model/lst";
export type { LstForm } from "./model/lst";
export { CliError, cli, flagValue, intList, keyValues, oneOf, seedList } from "./tooling/cli";
export { checkDirPath, checkFilePath, outputStem } from "./paths";
export { SHELL_NAME } from "./experiment/slurm";
export { finishedGridRuns } from "./experiment/file-eval";
export { finalLossSummary } from "./experiment/study";
export { installKernel } from "./tooling/kernelspec";
export { readNotebook, runNotebook } from "./tooling/notebook-runner";
export { syntheticSequence } from "./train/synthetic";
export { describeCpu, parseCpuInfo, readCpuInfo } from "./tooling/cpu-info";
export type { CpuInfo } from "./tooling/cpu-info";
export { findPeerScript, PEER_SCRIPT_REL } from "./tooling/peer-script";
export type { PeerScript } from "./tooling/peer-script";
export { aggregateKernels, NO_DISPATCH, profileTable } from "./tooling/kernel-profile";
export type { KernelRecord, ProfileRow, ProfileSummary } from "./tooling/kernel-profile";
export { CompiledStep } from "./train/compiled-step/runner";
export type { CompiledStepStats, StepReport } from "./train/compiled-step/runner";
export { fusedOps } from "./model/bench-ops";
