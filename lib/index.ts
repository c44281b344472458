/**
 * LST Lab: the public entry. Notebooks import only this file; scripts/ and bench/ import this one and, for the
 * few internals a command-line tool needs, lib/internal.ts. Data flows one way: audio/text -> tokenizers ->
 * data -> model -> train/eval -> experiment -> viz (docs/architecture.md).
 */
// core
export { initBackend, backendReport, describeBackend, tf, BACKENDS } from "./backend";
export type { BackendName, BackendReport } from "./backend";
export type { WebgpuAdapter } from "./backend-webgpu";
export { resolveConfig, parseCliOverrides, configHash, canonicalJson } from "./config";
export type { DeepPartial } from "./config";
export { Rng, hashSeed } from "./rng";
export { dataDir, runsDir, cacheDir, figuresDir } from "./paths";
export {
  readJsonFile,
  readJsonLines,
  writeFileDurable,
  appendLine,
  ensureDir,
  ensureWritableDir,
  fileError,
  writeFileAtomic,
  writeJsonAtomic,
  readJson,
} from "./files";

// tokenizers
export * from "./tokenizers/special";
export { BpeTokenizer, BPE_FORMAT, BPE_VERSION } from "./tokenizers/bpe";
export { preTokenize } from "./tokenizers/text-bytes";
export { bpeToHuggingFace, saveHuggingFaceTokenizer, encodeWithSpecials } from "./tokenizers/bpe-hf";
export { UnitBpe } from "./tokenizers/unit-bpe";

// data
export type * from "./data/types";
export { makeStories, storyAt, renderEnding, isHeldOut, storyVocabulary, SPLITS } from "./data/story";
export type { Story, Split, StoryEvent, EndingSlots } from "./data/story";
export {
  makeBenchmark,
  contradict,
  balancedLabels,
  SC_VARIANTS,
  BENCH_KIND_NAMES,
  BENCH_KINDS,
  EXTRA_BENCH_KINDS,
} from "./data/benchmarks";
export type { BenchItem, BenchKindName, BenchKind, ExtraBenchKind, BenchOptions } from "./data/benchmarks";
export {
  loadStoryClozeCsv,
  loadTopicStoryClozeCsv,
  loadHellaSwagJsonl,
  loadBenchmarkFile,
  parseCsv,
} from "./data/formats";
export type { LoadOptions } from "./data/formats";
export { lexiconCoverage, inStoryLexicon } from "./data/lexicon-coverage";
export type { LexiconCoverage } from "./data/lexicon-coverage";
export { unitsOfWav } from "./data/recording";
export type { RecordingUnits } from "./data/recording";
export { DATA_PRESETS, DATA_DEFAULTS, resolveDataConfig } from "./data/config";
export type { DataConfig } from "./data/config";
export {
  buildDataset,
  loadDatasetDir,
  datasetDir,
  readShards,
  DATA_FORMAT,
  extraBenchmark,
  buildExtraBenchmark,
  speakBenchmark,
} from "./data/build";
export type { Dataset, BuildStats } from "./data/build";
export { chainStoryAt } from "./data/story-chain";
export type { ChainStory } from "./data/story-chain";
export { alignUtterance, checkAlignment } from "./data/align";
export {
  interleave,
  textDocument,
  speechDocument,
  modalityCounts,
  DEFAULT_INTERLEAVE,
  SequenceBuilder,
} from "./data/interleave";
export type { InterleaveOptions } from "./data/interleave";
export { makeTrainSource } from "./data/source";
export type { MixOptions, TrainSource } from "./data/source";
export { trainSpeechBpe, speechBpeSource, makeSpeechBpe } from "./data/speech-bpe";
export { DIRECTIONS, encodeItem, encodeTextItem, concatSequences } from "./data/bench-encode";
export type { Direction, SpokenItem, EncodedItem, BenchItemLike } from "./data/bench-encode";

// model
export type * from "./model/types";
export { createModel } from "./model/create";
export { resolveModelConfig, DEFAULT_MODEL_CONFIG, derivedSizes, ffnHidden } from "./model/config";
export type { ModelConfig, LstModuleConfig } from "./model/config";
export { toBatch } from "./model/batch";
export { staticPatchLengths, patchIdsFromLengths } from "./model/patch-ids";
export {
  makePatcher,
  resolvePatchingConfig,
  curriculumAlignedProb,
  alignedPatchLengths,
  DEFAULT_PATCHING,
  PATCHING_SCHEMES,
  PATCH_SCHEMES,
  meanSpeechPatchLen,
  needsEntropyModel,
  evalPatchingBase,
} from "./model/patching";
export type { Patcher, BuiltPatcher, PatchingConfig, PatchingScheme, PatchSchemeDef } from "./model/patching";

// train
export { train } from "./train/train";
export type { StepMetrics, TrainOptions, TrainResult } from "./train/train";
export { DEFAULT_TRAIN, resolveTrainConfig } from "./train/config";
export type { TrainConfig } from "./train/config";
export { makeBatchStream, measureStream } from "./train/batches";
export { lrAt } from "./train/schedule";
export {
  exportModel,
  exportRunCheckpoint,
  loadModelSafetensors,
  writeModelSafetensors,
  MODEL_FILE,
} from "./train/model-export";
export { readSafetensors, writeSafetensors, encodeSafetensors, decodeSafetensors } from "./train/safetensors";
export type { SafeTensor, SafetensorsDtype } from "./train/safetensors";
export { writeMetricsCsv, writeTensorboard, metricsCsv } from "./train/metrics-export";

// eval
export { scoreItems, evaluate, accuracyBy, accuracyCells } from "./eval/evaluate";
export type { EvalResult, AccuracyCell } from "./eval/evaluate";
export { rescore, NORMS } from "./eval/score";
export type { Batching } from "./eval/batching";
export type { Norm, ItemScore } from "./eval/score";
export { meanStd, macroScore, summarize, withMacroRows, rowsFromEval } from "./eval/metrics";
export type { ResultRow, SummaryRow } from "./eval/metrics";

// experiment (orchestration and the run store), viz (presentation)
export { RunStore, toCsv, flattenRows } from "./experiment/runs";
export type { RunRecord } from "./experiment/runs";
export { lossCurves, accuracyBars, pairedBars, scoringBars } from "./viz/figures";
export { accuracyVsKnob, accuracyVsMix, accuracyVsSize, computeSavingBars } from "./viz/knob-figures";
export { patchFigure, spansFromAligned, speechPatchLengths } from "./viz/patch-figure";
export { paperLayout, MODEL_COLORS } from "./viz/paper-style";
export type { Figure } from "./viz/paper-style";
export {
  SCALES,
  labScale,
  resolveExperiment,
  LAB_FORMAT,
  LAB_MIX,
  PAPER_MIX,
  ASSUMED_GPU_TFLOPS,
} from "./experiment/experiment";
export type { ExperimentConfig, ExperimentSpec, LabScale } from "./experiment/experiment";
export { GRIDS, GRID_SUMMARY, expandGrid, gridEntries, selectGrid } from "./experiment/grids";
export { runFlops, scaleBudget, estimatedStepMs, parseTflops, describeTflops } from "./experiment/scale-budget";
export type { RunFlops, ScaleBudgetRow, Tflops } from "./experiment/scale-budget";
export { planGrid, formatPlan, planSummary, MEASURED_STEP_MS } from "./experiment/plan";
export type { GridPlan, PlannedRun, RunState } from "./experiment/plan";
export {
  provenanceNow,
  readProvenance,
  runCode,
  runFreshness,
  codeWarning,
  moveRunAside,
  UNKNOWN_CODE,
} from "./experiment/provenance";
export type { ProvenanceSegment, RunProvenance, GitInfo } from "./experiment/provenance";
export { runGrid, gridStatus, scaleRows, scaleRuns } from "./experiment/grid-study";
export type { GridOptions } from "./experiment/grid-study";
export {
  runExperiment,
  datasetFor,
  datasetSource,
  entropyModelFor,
  trainingSource,
  budgetSteps,
  encodedBenchmarks,
  experimentContext,
} from "./experiment/study";
export { scoringVariants, runItems, storedItems } from "./experiment/rescore";
export { extraBenchmarkItems, spokenBenchmarkItems } from "./experiment/extra-eval";
export type { ScoredRunItems, SpokenBenchmark, RunScores } from "./experiment/extra-eval";
export { fileBenchmark, fileBenchmarkItems, fileEvalLines } from "./experiment/file-eval";
export type { FileEval, FileEvalOptions } from "./experiment/file-eval";
export type { StudyRun, StudyOptions } from "./experiment/study";
export { resolveExecutor, printGridState } from "./experiment/executor";
export type { ExecutorOptions } from "./experiment/executor";
export type { RunStatus, RunState as JobRunState } from "./experiment/grid-jobs";
export { unitStats, wordPieceStats, unitConsistency, editDistance, mixShares, sequenceHtml } from "./viz/inspect";
export { PAPER_FINDINGS, reproductionReport, reportMarkdown, reportInterval, formatP } from "./experiment/report";
export type { Finding, ReportRow, Verdict } from "./experiment/report";
export {
  cellScores,
  cellAccuracy,
  pairedDiffs,
  pairedBootstrap,
  comparePaired,
  pairedVerdict,
  formatPaired,
} from "./eval/paired";
export type { ItemOutcome, RunItems, PairedOptions, PairedResult, PairedVerdict } from "./eval/paired";
export { stageProgress } from "./viz/progress";
export type { OnProgress } from "./viz/progress";
export {
  summaryTable,
  pairedTable,
  budgetTable,
  tierTable,
  tierTableOfItems,
  mixRatioTable,
  patchLengthTable,
  bpePieces,
  PATCHING_GALLERY,
} from "./viz/tables";

export { utteranceFigure, recordingFigure, unitHistogram, mixSharesFigure, reportFigure } from "./viz/data-figures";
export { UnitEntropyModel, fitUnitEntropyModel } from "./model/entropy";
export { AdamW } from "./train/adamw";
export { saveCheckpoint, loadCheckpoint, hasCheckpoint } from "./train/checkpoint";
export { syntheticSource } from "./train/synthetic";
export { scoreEndings } from "./eval/score";
export type { RowDirection, MeanStd } from "./eval/metrics";
export { RUN_FORMAT, readMetrics } from "./experiment/runs";
export { runKey, migrateRunStore } from "./experiment/run-layout";
export type { LossSeries } from "./viz/figures";
export { modelColor, SIZES } from "./viz/paper-style";

// audio and units
export { readWav, readWavFile, writeWav } from "./audio/wav";
export { resample } from "./audio/resample";
export { logMel, unitFrameCount, DEFAULT_LOGMEL } from "./audio/logmel";
export type { LogMelOptions, LogMelResult } from "./audio/logmel";
export {
  createTts,
  resolveVoice,
  textWords,
  timingsFromEvents,
  TRAIN_VOICES,
  TEST_VOICES,
  VOICES,
  TTS_SAMPLE_RATE,
  PAUSE_PHONEME,
  MAX_TEXT_BYTES,
} from "./audio/tts";
export type { Tts, VoiceSpec, TextWord, EspeakEvent, PhonemeCounter } from "./audio/tts";
export { kmeans, nearestCentroid, assignAll, DEFAULT_KMEANS } from "./tokenizers/kmeans";
export type { KMeansOptions, KMeansResult } from "./tokenizers/kmeans";
export { SpeechUnitizer, dedupUnits, UNIT_SAMPLE_RATE } from "./tokenizers/units";
export type { UnitizerTrainOptions, UnitizerTrainStats } from "./tokenizers/units";
export { PhonemeInventory, phoneticUnits, normalizePhoneme, PHONE_SILENCE, PHONE_UNK } from "./tokenizers/phonetic";
export type { PhoneticUnitOptions } from "./tokenizers/phonetic";

// display, export, environment
export { showFigure, showTable, showAudio, showHtml, tableHtml, displayBundle } from "./viz/display";
export { exportFigure, closeExporter, renderPng, renderSvg, renderPdf, chromiumPath } from "./viz/export";
export { versions, matmulBenchmark, matmulFigure } from "./tooling/env";
export type { MatmulTiming } from "./tooling/env";
export { notebookSetup, NOTEBOOK_FIGURE_FORMATS } from "./tooling/notebook";
export type { NotebookSetup, NotebookSetupOptions } from "./tooling/notebook";
export { progress, progressText } from "./viz/progress-line";
export type { Progress, ProgressOptions } from "./viz/progress-line";
export { paperStyle } from "./viz/export";
export type { PlotlyFigure, ExportOptions } from "./viz/export";
export { MODEL_SIZES, MODEL_SIZE_NAMES, modelSizeConfig, paramTable } from "./model/sizes";
export type { ModelSizeName, ParamRow } from "./model/sizes";
export { flopsPerStep, computeSaving, paramCountFromConfig, PAPER_UNIT_MIX } from "./model/flops";
export type { StepFlops, ComputeSaving } from "./model/flops";
export { lstBatchLayout } from "./model/lst";

// generation: sampling with a key/value cache, units back to audio, continuations in four directions (docs/generate.md)
export { generate, generationRule, staticRule, entropyRule, promptPatchStarts } from "./model/generate";
export type { BoundaryRule, GenerateOptions, Generation, StopReason, RuleContext } from "./model/generate";
export { sampleToken, samplingDistribution, GREEDY, DEFAULT_SAMPLING } from "./model/sampling";
export type { SamplingOptions } from "./model/sampling";
export { MelVocoder, PhonemeVocoder, phonemeMap, createPhonemizer } from "./audio/vocoder";
export type { Phonemizer, PhonemeText } from "./audio/vocoder";
export { griffinLim } from "./audio/griffin-lim";
export { promptFor, continueFrom, inLexiconRow } from "./eval/continuations";
export type { Continuation, PromptInput, InLexiconRow, TextCodec } from "./eval/continuations";
export { PhoneLexicon, transcribe, unitAgreement, collapseRuns } from "./eval/transcribe";
export type { Transcript } from "./eval/transcribe";
export { vocoderFor, speakUnits, vocoderRoundTrip, phoneLexiconFor, phonemeVocoder } from "./eval/vocoders";
export type { UnitVocoder, RoundTripRow } from "./eval/vocoders";
export { loadRunGenerator, inLexiconTable } from "./experiment/generate-runs";
export type { RunGenerator, InLexiconOptions } from "./experiment/generate-runs";
export { heldOutPrompt } from "./eval/vocoders";
export { continuationFigure, continuationPatches } from "./viz/continuation-figure";
export { FINDINGS, GAP_FINDINGS, findingId } from "./experiment/findings";
export { findingsReport } from "./experiment/verdicts";
export type { FindingRow } from "./experiment/verdicts";
export { RESULT_SECTIONS, SECTION7, summaryMarkdown } from "./experiment/results-doc";
export { writeResults } from "./viz/results";
export { gapDiffs } from "./eval/paired";
export { detectable, seedsToDetect, normalQuantile } from "./eval/detectable";
export type { Detectable } from "./eval/detectable";
