#!/usr/bin/env bash
# Installs a built weft (cmake --install) into a temporary prefix, then builds and runs the
# project in tests/install against it, as a program outside this repository would:
# find_package(weft), weft_add_model, the DSL and the CPU JIT. Checks the answers, and that the
# AOT-compiled binary links no LLVM (ldd).
#   scripts/check_install.sh [BUILD_DIR]     (default build/release, already built)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
work=$(mktemp -d "${TMPDIR:-/tmp}/weft-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
cmake -S tests/install -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j2 > "$work/build.log" || { cat "$work/build.log"; exit 1; }

# tanh(x W) + b for x = [[1 0 0] [0 1 2]], W = [[.5 -.5] [.25 0] [0 .125]], b = [1 2].
expected=$(printf '%s\n' "1.462117 1.537883" "1.244919 2.244919")
for program in aot_consumer jit_consumer; do
  got=$("$work/build/$program")
  if [ "$got" != "$expected" ]; then
    printf 'check_install: %s printed\n%s\nexpected\n%s\n' "$program" "$got" "$expected" >&2
    exit 1
  fi
done
if ldd "$work/build/aot_consumer" | grep -i llvm; then
  echo "check_install: aot_consumer links LLVM; an AOT binary must need only weft's runtime" >&2
  exit 1
fi
echo "check_install: the installed weft builds and runs an outside project (AOT without LLVM, JIT)"
