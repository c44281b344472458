# Sourced by scripts/lab.sh and scripts/py-interop.sh: `venv_pip VENV` sets the array PIP to the venv's
# `pip install` for this machine. Offline machines with a local package mirror: pip would retry pypi.org for
# every package (minutes); when pypi.org does not answer, the first configured extra index (the mirror) becomes
# the main one (PIP_INDEX_URL), or, without one, pip installs from local wheels only (--no-index).
venv_pip() {
  local venv="$1"
  PIP=("$venv/bin/pip" install -q --retries 1 --timeout 20)
  if ! "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('https://pypi.org/simple/pip/', timeout=5)" >/dev/null 2>&1; then
    local mirror
    mirror="$("$venv/bin/pip" config get global.extra-index-url 2>/dev/null | awk '{print $1}' || true)"
    if [ -n "$mirror" ]; then
      echo "pypi.org is unreachable: installing from the configured mirror $mirror" >&2
      export PIP_INDEX_URL="$mirror"
    else
      PIP+=(--no-index)
      echo "pypi.org is unreachable: installing from local wheels only (pip's find-links)" >&2
    fi
  fi
}
