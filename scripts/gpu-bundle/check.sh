#!/bin/sh
# LST Lab, the GPU check (built into the bundle by `npm run gpu-bundle`; README.md "The GPU check"):
#   ./check.sh [OUTDIR]      default OUTDIR: check-results/ beside this script
# 1. info: node, the WebGPU adapter Dawn finds, the Vulkan loader;
# 2. the training bench at d512 (the gpuSmall preset, B 16 x T 1024) and at the reference size, the tfjs models
#    on webgpu next to the PyTorch peer (peer/torch_lm_bench.py, on cuda where torch sees a GPU), eager and
#    compiled, 3 rounds at d512 and 1 at reference;
# 3. a 50-step LST training run on the bundled smoke data, whose logged losses must equal the CPU's
#    (`npx tsx scripts/train.ts --data=smoke --model.kind=lst --train.steps=50` on the lab's machine);
# 2b. each fused WGSL kernel (lib/webgpu/) timed against the tfjs ops it replaces at the d512 shapes
#    (bench/webgpu-kernels.ts), and the d512 bench with the fused kernels on and off (LST_WEBGPU_FUSED=0),
#    each step's kernel count from --profile;
# 4. the step time at the gpu scale's shapes (bench/step-time.ts --scale=gpu: the ms a step that
#    `npm start -- --scale=gpu --dry-run --tflops=...` estimates).
# Each step has its own time limit, so a hang in one still leaves the others' results. Logs and the bench JSON
# go to OUTDIR. About 10 minutes on an H200 (torch.compile takes most of it); no network, no Node.js needed.
set -u
case "$0" in */*) HERE=$(cd "${0%/*}" && pwd) ;; *) HERE=$(pwd) ;; esac
OUTD=${1:-$HERE/check-results}
mkdir -p "$OUTD"
# NVIDIA's Vulkan ICD where container runtimes mount the driver, when the loader's own folders have none
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; break; fi
  done
fi
if [ -z "${PEER_BENCH:-}" ] && [ -f "$HERE/peer/torch_lm_bench.py" ]; then export PEER_BENCH="$HERE/peer/torch_lm_bench.py"; fi
export PYTHONUNBUFFERED=1
quiet() { grep -v '^Warning: maxDynamic'; } # Dawn's note on dynamic buffer limits, printed at every start
step() { echo "=== $1 $(date +%T)"; }
{
  (nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null || echo "no nvidia-smi")
  (grep -m1 'model name' /proc/cpuinfo || true)
  (python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>/dev/null || echo "no torch")
} | tee "$OUTD/machine.txt"
step info
timeout 120 "$HERE/run.sh" info 2>&1 | quiet | tee "$OUTD/info.txt"
# bench NAME SECONDS ROUNDS: the training bench at size NAME, its table on stdout, log and JSON in OUTD
bench() {
  step "bench $1"
  rm -f "$HERE/data/bench/train-bench.json"
  timeout "$2" "$HERE/run.sh" bench --sizes="$1" --steps=10 --warmup=3 --rounds="$3" 2>&1 | quiet > "$OUTD/bench-$1.txt"
  tail -22 "$OUTD/bench-$1.txt"
  cp "$HERE/data/bench/train-bench.json" "$OUTD/bench-$1.json" 2>/dev/null
}
bench d512 420 3
step "fused kernels at d512 (each against the tfjs ops it replaces)"
timeout 300 "$HERE/run.sh" kernels --size=d512 --reps=10 2>&1 | quiet | tee "$OUTD/kernels-d512.txt"
# the same d512 bench with the fused kernels on and off, one round each, with each step's kernel count
for fused in 1 0; do
  step "bench d512, LST_WEBGPU_FUSED=$fused (no peer, --profile)"
  LST_WEBGPU_FUSED=$fused timeout 300 "$HERE/run.sh" bench --sizes=d512 --steps=10 --warmup=3 --rounds=1 --no-peer --profile 2>&1 | quiet > "$OUTD/bench-d512-fused$fused.txt"
  grep -E '^\| tfjs|tokens/s /|kernels,' "$OUTD/bench-d512-fused$fused.txt"
done
step "train (50 LST steps, smoke data)"
timeout 150 "$HERE/run.sh" train --data=smoke --model.kind=lst --train.steps=50 2>&1 | quiet > "$OUTD/train.txt"
tail -9 "$OUTD/train.txt"
step "step time at the gpu scale"
timeout 180 "$HERE/run.sh" step-time --scale=gpu --steps=8 2>&1 | quiet | tee "$OUTD/step-time-gpu.txt"
bench reference 240 1
step "end (results in $OUTD)"
