#!/usr/bin/env bash
# `npm run lab`: JupyterLab with the lst-lab TypeScript kernel, from a virtualenv at .venv.
# JupyterLab comes from pip (the local wheel mirror on these machines); where it cannot be installed, the
# classic notebook is tried, then a Jupyter already on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/jupyter" ]; then
  command -v python3 >/dev/null || { echo "python3 is needed for Jupyter: sudo apt-get install python3 python3-venv" >&2; exit 1; }
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
  if ! "$VENV/bin/pip" install -q jupyterlab plotly; then
    echo "jupyterlab could not be installed from pip; trying the classic notebook" >&2
    "$VENV/bin/pip" install -q notebook || true
  fi
fi
if [ -x "$VENV/bin/jupyter" ]; then JUPYTER="$VENV/bin/jupyter"; PREFIX="$VENV";
elif command -v jupyter >/dev/null; then JUPYTER="$(command -v jupyter)"; PREFIX="";
else echo "no Jupyter available: install jupyterlab (pip install jupyterlab) or Debian's jupyter-notebook" >&2; exit 1; fi
if [ -n "$PREFIX" ]; then npx tsx scripts/kernel.ts --prefix "$PREFIX"; else npx tsx scripts/kernel.ts; fi
if "$JUPYTER" lab --version >/dev/null 2>&1; then
  exec "$JUPYTER" lab --notebook-dir="$ROOT/notebooks" "$@"
else
  exec "$JUPYTER" notebook --notebook-dir="$ROOT/notebooks" "$@"
fi
