#!/usr/bin/env bash
# Configures and builds one weft build tree: scripts/build.sh <release|asan|tsan|fuzz> [targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
shift || true
jobs=${WEFT_JOBS:-2}
case "$kind" in
  release) flags=(-DCMAKE_BUILD_TYPE=Release -DWEFT_WERROR=ON) ;;
  asan) flags=(-DCMAKE_BUILD_TYPE=Debug -DWEFT_WERROR=ON -DWEFT_SANITIZE=ON) ;;
  # RelWithDebInfo: the threads tests run the interpreter too, slow enough under TSan at -O2.
  tsan) flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_WERROR=ON -DWEFT_TSAN=ON) ;;
  # Fuzzers keep Debug's assertions but run optimized: -O2 executes about 10x the inputs of -O0
  # per second (the parser: ~10,000/s against ~1,000/s on one core).
  fuzz) flags=(-DCMAKE_BUILD_TYPE=Debug -DWEFT_WERROR=ON -DWEFT_BUILD_FUZZERS=ON
               "-DCMAKE_CXX_FLAGS_DEBUG=-g -O2" "-DCMAKE_C_FLAGS_DEBUG=-g -O2"
               -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19) ;;
  *) echo "usage: scripts/build.sh <release|asan|tsan|fuzz> [targets...]" >&2; exit 2 ;;
esac
# CI (scripts/check.sh sets WEFT_CI=1) builds each tree once, from scratch, to run its tests:
# the sanitized trees with line tables only, which is all a sanitizer's report uses (file:line
# in every frame); and the test binaries as unity builds (WEFT_UNITY_TESTS, several test files
# per translation unit: about half the compile time of the tests). That is safe because every
# test file keeps its code in a namespace of its own (scripts/check_test_namespaces.py). Off for
# developers: editing one test file would recompile its whole batch.
# CI also links with lld where it is installed (scripts/install-deps.sh installs it): linking the
# debug-info test binaries takes about 40% of ld.bfd's time.
if [ "${WEFT_CI:-0}" = 1 ]; then
  flags+=(-DWEFT_UNITY_TESTS=ON)
  if command -v ld.lld >/dev/null; then
    flags+=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld)
  fi
  case "$kind" in
    asan) flags+=(-DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1) ;;
    tsan) flags+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
                  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG") ;;
  esac
fi
cmake -S . -B "build/$kind" -G Ninja "${flags[@]}" >/dev/null
if [ $# -gt 0 ]; then
  cmake --build "build/$kind" -j "$jobs" --target "$@"
else
  cmake --build "build/$kind" -j "$jobs"
fi
