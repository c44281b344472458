/**
 * The CPU a benchmark ran on, read from /proc/cpuinfo: the model name and the ISA extensions that decide how
 * fast float32 matmuls run (AVX2, AVX-512F, AVX-512 BF16, AMX). Ratios against a peer depend on them, so every
 * bench reports them next to its numbers. Where /proc/cpuinfo is absent (macOS, Windows) the model comes from
 * `os.cpus()` and the flags are unknown (null).
 */
import * as fs from "fs";
import * as os from "os";

export interface CpuInfo {
  /** e.g. "AMD EPYC 9R14 96-Core Processor" */
  model: string;
  /** "family 6 model 207" (x86 `cpu family` and `model`: names the generation where a VM hides the model name) */
  cpuid?: string;
  /** logical processors listed */
  logicalCpus: number;
  /** null where the flags could not be read */
  flags: { avx2: boolean; avx512f: boolean; avx512_bf16: boolean; amx: boolean } | null;
}

/** Parse the text of /proc/cpuinfo (its first processor's `model name` and `flags` lines). */
export function parseCpuInfo(text: string): CpuInfo {
  const blocks = text.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  const field = (block: string, key: string): string | undefined => {
    const m = new RegExp(`^${key}\\s*:\\s*(.*)$`, "m").exec(block);
    return m ? m[1].trim() : undefined;
  };
  const first = blocks[0] ?? text;
  const model = field(first, "model name") ?? field(first, "Processor") ?? field(first, "uarch") ?? "unknown";
  const family = field(first, "cpu family");
  const modelNumber = field(first, "model");
  const flagLine = field(first, "flags");
  const flags = flagLine === undefined ? null : new Set(flagLine.split(/\s+/));
  return {
    model,
    ...(family !== undefined && modelNumber !== undefined ? { cpuid: `family ${family} model ${modelNumber}` } : {}),
    logicalCpus: Math.max(blocks.length, 1),
    flags: flags
      ? {
          avx2: flags.has("avx2"),
          avx512f: flags.has("avx512f"),
          avx512_bf16: flags.has("avx512_bf16"),
          // amx_tile is the base of AMX; amx_bf16 / amx_int8 / amx_fp16 come with it
          amx: flags.has("amx_tile") || flags.has("amx_bf16"),
        }
      : null,
  };
}

/** This machine's CPU: /proc/cpuinfo where it exists, else the model from `os.cpus()` with unknown flags. */
export function readCpuInfo(): CpuInfo {
  try {
    return parseCpuInfo(fs.readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    const cpus = os.cpus();
    return { model: cpus[0]?.model ?? "unknown", logicalCpus: cpus.length, flags: null };
  }
}

/** One line: "Intel(R) Xeon(R) Processor (family 6 model 207), 2 logical CPUs, avx2 avx512f avx512_bf16 no amx". */
export function describeCpu(c: CpuInfo): string {
  const name = c.cpuid ? `${c.model} (${c.cpuid})` : c.model;
  if (!c.flags) return `${name}, ${c.logicalCpus} logical CPUs, ISA flags unknown`;
  const f = c.flags;
  const names = (["avx2", "avx512f", "avx512_bf16", "amx"] as const).map((k) => (f[k] ? k : `no ${k}`));
  return `${name}, ${c.logicalCpus} logical CPUs, ${names.join(" ")}`;
}
