#!/usr/bin/env bash
# Checks a native program's --device choice (runtime/train/AotDevice.h), one behaviour per call:
#   tests/examples/native_device.sh PROGRAM [ARGS...] -- cuda|unknown
# cuda: on a machine without a GPU (no libcuda.so.1 the loader finds, or $WEFT_NO_GPU set), the
# program fails at once, exit 1, with "PROGRAM: no CUDA device: ..." on stderr and nothing on
# stdout; where a GPU is, the check is skipped (exit 77: the GPU script runs the program there).
# unknown: --device tpu fails, naming the choices.
set -euo pipefail
args=()
while [ "$1" != "--" ]; do args+=("$1"); shift; done
shift
case=$1
name=$(basename "${args[0]}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() {
  set +e
  printf 'abc\n' | "${args[@]}" "$@" > "$work/out.txt" 2> "$work/err.txt"
  status=$?
  set -e
}

case $case in
cuda)
  if [ -z "${WEFT_NO_GPU:-}" ] && ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1'; then
    echo "a CUDA driver is installed here: the GPU run belongs to bench/gpu.sh" >&2
    exit 77
  fi
  run --device cuda
  cat "$work/err.txt" >&2
  [ "$status" -eq 1 ]
  grep -q "^$name: no CUDA device: " "$work/err.txt"
  [ ! -s "$work/out.txt" ]
  ;;
unknown)
  run --device tpu
  cat "$work/err.txt" >&2
  [ "$status" -ne 0 ]
  grep -q "unknown device 'tpu' (choose cpu|cuda)" "$work/err.txt"
  ;;
*)
  echo "unknown case $case" >&2
  exit 2
  ;;
esac
