#!/usr/bin/env bash
# `npm run lab`: JupyterLab with the lst-lab TypeScript kernel, from a virtualenv at .venv (or $LST_LAB_VENV).
# JupyterLab comes from pip; where it cannot be installed, the classic notebook is tried, then a Jupyter
# already on PATH. Extra arguments go to `jupyter lab` (e.g. `npm run lab -- --no-browser --port 8890`).
# LST_LAB_NOTEBOOKS serves another folder than notebooks/ (the browser test serves copies).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="${LST_LAB_VENV:-$ROOT/.venv}"
NOTEBOOKS="${LST_LAB_NOTEBOOKS:-$ROOT/notebooks}"
if [ ! -x "$VENV/bin/jupyter" ]; then
  command -v python3 >/dev/null || { echo "python3 is needed for Jupyter: sudo apt-get install python3 python3-venv" >&2; exit 1; }
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  # shellcheck source=scripts/venv-pip.sh
  source "$ROOT/scripts/venv-pip.sh"
  venv_pip "$VENV"
  if ! "${PIP[@]}" jupyterlab plotly; then
    echo "jupyterlab could not be installed from pip; trying the classic notebook" >&2
    "${PIP[@]}" notebook || true
  fi
fi
if [ -x "$VENV/bin/jupyter" ]; then JUPYTER="$VENV/bin/jupyter"; PREFIX="$VENV";
elif command -v jupyter >/dev/null; then JUPYTER="$(command -v jupyter)"; PREFIX="";
else echo "no Jupyter available: install jupyterlab (pip install jupyterlab) or Debian's jupyter-notebook" >&2; exit 1; fi
if [ -n "$PREFIX" ]; then npx tsx scripts/kernel.ts --prefix "$PREFIX"; else npx tsx scripts/kernel.ts; fi
# Jupyter refuses to run as root (containers) unless told
ROOT_OK=()
if [ "$(id -u)" = 0 ]; then ROOT_OK=(--allow-root); fi
if "$JUPYTER" lab --version >/dev/null 2>&1; then
  exec "$JUPYTER" lab --notebook-dir="$NOTEBOOKS" "${ROOT_OK[@]}" "$@"
else
  exec "$JUPYTER" notebook --notebook-dir="$NOTEBOOKS" "${ROOT_OK[@]}" "$@"
fi
