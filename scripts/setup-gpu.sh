#!/usr/bin/env bash
# `npm run setup:gpu`: install @tensorflow/tfjs-node-gpu where a CUDA GPU is present; skip cleanly elsewhere.
# tfjs-node-gpu 4.22 downloads libtensorflow 2.9.1 built for CUDA 11.2 + cuDNN 8.1 at install time, so it
# needs those libraries and network access to storage.googleapis.com. lib/backend.ts prefers it
# automatically once it loads (backend 'tensorflow', provider @tensorflow/tfjs-node-gpu).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ ! -e /proc/driver/nvidia/version ] && ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "[setup-gpu] no NVIDIA GPU driver on this machine: skipped (the CPU backend stays in use)"
  exit 0
fi
missing=()
ldconfig -p 2>/dev/null | grep -q "libcudart.so.11" || missing+=("CUDA 11.x runtime (libcudart.so.11.0)")
ldconfig -p 2>/dev/null | grep -q "libcudnn.so.8" || missing+=("cuDNN 8 (libcudnn.so.8)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup-gpu] a GPU is present but tfjs-node-gpu 4.22 needs: ${missing[*]}." >&2
  echo "[setup-gpu] install CUDA 11.2 and cuDNN 8.1 (see environment.md), or keep the CPU backend." >&2
  exit 1
fi
if ! npm install --no-save --foreground-scripts @tensorflow/tfjs-node-gpu@4.22.0; then
  echo "[setup-gpu] installing @tensorflow/tfjs-node-gpu failed (its install downloads libtensorflow from storage.googleapis.com)." >&2
  exit 1
fi
node -e 'require("@tensorflow/tfjs-node-gpu"); console.log("[setup-gpu] tfjs-node-gpu loads; LST_BACKEND=tensorflow now runs on the GPU")'
