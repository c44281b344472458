#!/usr/bin/env bash
# The Python side of the interop tests (test/interop/): a virtualenv at .venv-interop (or $LST_INTEROP_VENV)
# with safetensors, tokenizers, tensorboard, torch (CPU), pandas and numpy from pip. Idempotent: a venv that
# already imports all of them is left as it is. Prints the venv's python on the last line of stdout.
# pip reaches pypi.org where it can; on an offline machine with a local mirror, the mirror (scripts/venv-pip.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="${LST_INTEROP_VENV:-$ROOT/.venv-interop}"
PY="$VENV/bin/python"
CHECK="import safetensors, tokenizers, tensorboard, torch, pandas, numpy"
if [ -x "$PY" ] && "$PY" -c "$CHECK" >/dev/null 2>&1; then
  echo "$PY"
  exit 0
fi
command -v python3 >/dev/null || { echo "python3 is needed for the interop tests: sudo apt-get install python3 python3-venv" >&2; exit 1; }
if [ ! -x "$VENV/bin/pip" ]; then
  python3 -m venv "$VENV" >&2 || { echo "python3 -m venv failed: sudo apt-get install python3-venv" >&2; exit 1; }
fi
# shellcheck source=scripts/venv-pip.sh
source "$ROOT/scripts/venv-pip.sh"
venv_pip "$VENV"
# torch: the CPU build (pytorch.org's CPU index where pypi.org answers; the mirror holds only CPU wheels)
TORCH_INDEX=()
if [ -z "${PIP_INDEX_URL:-}" ] && [[ " ${PIP[*]} " != *" --no-index "* ]]; then
  TORCH_INDEX=(--extra-index-url https://download.pytorch.org/whl/cpu)
fi
echo "installing safetensors tokenizers tensorboard torch pandas numpy into $VENV (a few minutes the first time)" >&2
"${PIP[@]}" "${TORCH_INDEX[@]}" safetensors tokenizers tensorboard torch pandas numpy >&2
"$PY" -c "$CHECK" >&2 || { echo "the interop venv $VENV still cannot import: $CHECK" >&2; exit 1; }
echo "$PY"
