#!/usr/bin/env bash
# Installs what is missing, checks that every test file keeps its code in a namespace of its own
# (scripts/check_test_namespaces.py: the unity builds need it), builds weft and runs every test:
#   1. an ASan+UBSan debug build and all its tests,
#   2. a ThreadSanitizer build of the threads tests alone (label threads) and their run,
#   3. the IR parser, .npy reader and safetensors reader fuzzers (clang-19, libFuzzer), short runs,
#   4. a release build with warnings as errors and all its tests,
#   5. cmake --install of that build, and a project outside the tree built against it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Sanitized trees with line tables only (scripts/build.sh).
export WEFT_CI=1

echo "== test files keep their code in namespaces of their own (the unity builds need it)"
scripts/check_test_namespaces.py

echo "== ASan+UBSan build and tests"
# What ctest runs (tests, tools, examples), not the benchmarks: the release build compiles those.
scripts/build.sh asan weft-test-deps
ctest --test-dir build/asan --output-on-failure -j 2 -LE fuzz

echo "== ThreadSanitizer build and the threads tests"
scripts/build.sh tsan weft-threads-tests
ctest --test-dir build/tsan --output-on-failure -L threads

echo "== fuzzers (short runs, one per core)"
scripts/build.sh fuzz weft-parser-fuzzer weft-npy-fuzzer weft-safetensors-fuzzer
ctest --test-dir build/fuzz --output-on-failure -j 2 -L fuzz

echo "== release build and tests"
scripts/build.sh release
ctest --test-dir build/release --output-on-failure -j 2 -LE fuzz

echo "== install, and an outside project against it (find_package(weft), weft_add_model)"
scripts/check_install.sh build/release
