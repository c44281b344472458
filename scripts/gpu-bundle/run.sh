#!/bin/sh
# LST Lab, portable GPU run (built by `npm run gpu-bundle`; see README.txt beside this script).
#   ./run.sh bench [--sizes=reference --steps=10 --no-peer ...]      the training bench (bench/train-bench.ts)
#   ./run.sh step-time [--scale=gpu --steps=8]                       a lab scale's step time (bench/step-time.ts)
#   ./run.sh kernels [--size=d512 --reps=10]                         fused webgpu kernels vs tfjs's ops (bench/webgpu-kernels.ts)
#   ./run.sh train [--data=smoke --model.kind=lst --train.steps=50 ...]  one training run (scripts/train.ts)
#   ./run.sh info                                                    node, the WebGPU adapter, the Vulkan loader
# Needs Linux x86_64 with glibc >= 2.34, and for WebGPU a Vulkan driver (NVIDIA's driver brings its ICD). No Node.js,
# no network. The first run unpacks node, dawn.node and libstdc++ with xz (or python3). LST_BACKEND defaults to
# webgpu (wasm and cpu are bundled too). Results go under data/ in this folder.
# Knobs: LST_BUNDLE_VULKAN=system (use the system's Vulkan loader), LST_BUNDLE_LIBSTDCXX=system|bundled.
set -eu
BUNDLE_ID="@BUNDLE_ID@"
case "$0" in */*) HERE=$(cd "${0%/*}" && pwd) ;; *) HERE=$(pwd) ;; esac

case "$(uname -m 2>/dev/null || echo x86_64)" in
  x86_64 | amd64) ;;
  *) echo "run.sh: this bundle is for Linux x86_64, not $(uname -m)" >&2; exit 1 ;;
esac

# Unpack a .xz payload to $2 with mode $3 (xz, else python3's lzma).
unxz_to() {
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$1" > "$2.part"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2.part"
  else
    echo "run.sh: unpacking $1 needs xz or python3, and neither is on PATH" >&2
    exit 1
  fi
  chmod "$3" "$2.part"
  mv -f "$2.part" "$2"
}

stamp=""
if [ -f "$HERE/.unpacked" ]; then read -r stamp < "$HERE/.unpacked" || true; fi
if [ "$stamp" != "$BUNDLE_ID" ]; then
  echo "run.sh: unpacking node, dawn.node and libstdc++ into $HERE (once) ..." >&2
  mkdir -p "$HERE/bin" "$HERE/app/dist/linux-x64" "$HERE/lib/compat"
  unxz_to "$HERE/payload/node.xz" "$HERE/bin/node" 755
  # where the bundled `webgpu` package looks for it: dist/<platform>-<arch>/dawn.node beside app/lst.js
  unxz_to "$HERE/payload/dawn.node.xz" "$HERE/app/dist/linux-x64/dawn.node" 644
  unxz_to "$HERE/payload/libstdc++.so.6.xz" "$HERE/lib/compat/libstdc++.so.6" 644
  echo "$BUNDLE_ID" > "$HERE/.unpacked"
fi

# dawn.node needs GLIBCXX_3.4.30 (GCC 12's libstdc++): the bundled one only where the system's is older.
if [ -z "${LST_BUNDLE_LIBSTDCXX:-}" ]; then
  LST_BUNDLE_LIBSTDCXX=bundled
  for f in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /lib64/libstdc++.so.6; do
    if [ -e "$f" ]; then
      if grep -q GLIBCXX_3.4.30 "$f" 2>/dev/null; then LST_BUNDLE_LIBSTDCXX=system; fi
      break
    fi
  done
fi
libs=""
if [ "${LST_BUNDLE_VULKAN:-bundled}" != system ]; then libs="$HERE/lib/vulkan"; fi
if [ "$LST_BUNDLE_LIBSTDCXX" = bundled ]; then libs="${libs:+$libs:}$HERE/lib/compat"; fi
if [ -n "$libs" ]; then export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi

export LST_BACKEND="${LST_BACKEND:-webgpu}"
unset NODE_PATH
# Dawn warns without a runtime dir; any private writable folder will do
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR="$HERE/.runtime"
  mkdir -p "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
fi
cd "$HERE"
exec "$HERE/bin/node" "$HERE/app/lst.js" "$@"
