#!/usr/bin/env bash
# Builds the GPU round's bundle on a development machine (LLVM, the CUDA backend; no GPU
# needed), for a GPU machine that has the CUDA driver and python3 with PyTorch but no LLVM and
# no compiler (docs/Gpu.md):
#
#   bench/gpu.sh [BUNDLE_DIR] [BUILD_DIR]      (default build/gpu-bundle, build/release)
#
# BUNDLE_DIR then holds run.sh (what to run there), bin/weft-gpu (the parity checks and
# benchmarks: objects with embedded PTX, linked with weft's runtime only), bin/
# weft-example-train-native, the shared libraries they need beside them in lib/, the parity
# inputs and reference results, peers.py and summary.py. Copy the folder over and run
# ./run.sh there. It checks that nothing links LLVM and that the bundle stays under 64 MiB.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build/gpu-bundle}
build=${2:-$root/build/release}
for t in bench/weft-gpu-bundle examples/train_native/weft-example-train-native; do
  if [ ! -x "$build/$t" ]; then
    echo "gpu.sh: $build/$t is missing; build it first:" >&2
    echo "  scripts/build.sh release weft-gpu-bundle weft-example-train-native" >&2
    exit 2
  fi
done
cxx=${WEFT_CXX:-$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")}
cxx=${cxx:-c++}

rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "gpu.sh: compiling the models ahead of time (function: GPU code or why none)"
"$build/bench/weft-gpu-bundle" "$work"
cp -r "$work/parity" "$work/manifest.tsv" "$out/"
"$cxx" @"$build/weft_native_compile.rsp" -O2 -I "$work" -c "$work/registry.cpp" \
  -o "$work/registry.o"
"$cxx" @"$build/weft_native_compile.rsp" -O2 -Wall -Wextra -Wno-unused-parameter -Werror \
  -c "$root/bench/gpu/Runner.cpp" -o "$work/runner.o"
"$cxx" "$work/runner.o" "$work/registry.o" "$work"/models/*.o @"$build/weft_native_link.rsp" \
  -o "$out/bin/weft-gpu"
cp "$build/examples/train_native/weft-example-train-native" "$out/bin/"
cp "$root/bench/gpu/run.sh" "$root/bench/gpu/peers.py" "$root/bench/gpu/summary.py" "$out/"

# The shared libraries the programs need, but the C library's own (the GPU machine has those).
for bin in "$out"/bin/*; do
  ldd "$bin" | awk '/=> \// { print $3 }'
done | sort -u | while read -r lib; do
  case $(basename "$lib") in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libmvec.so*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
for bin in "$out"/bin/*; do
  "$root/scripts/check_no_llvm.sh" "$bin" >/dev/null
  if LD_LIBRARY_PATH="$out/lib" ldd "$bin" | grep -q "not found"; then
    echo "gpu.sh: $bin lacks a library:" >&2
    LD_LIBRARY_PATH="$out/lib" ldd "$bin" | grep "not found" >&2
    exit 1
  fi
done
size=$(du -sb "$out" | cut -f1)
echo "gpu.sh: $out holds $(du -sh "$out" | cut -f1) ($size bytes):"
ls "$out" "$out/bin" "$out/lib" | sed 's/^/  /'
if [ "$size" -ge $((64 * 1024 * 1024)) ]; then
  echo "gpu.sh: the bundle is over 64 MiB" >&2
  exit 1
fi
