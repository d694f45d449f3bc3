#!/bin/sh
# Fails when the program $1 would load or contain LLVM: ldd must list no libLLVM, and its
# symbols (nm -C, defined or not) must name nothing in namespace llvm:: (static linking).
# Used by ctest on the native binaries (examples/aot, examples/train_native).
set -eu
if [ $# -ne 1 ]; then
  echo "usage: scripts/check_no_llvm.sh PROGRAM" >&2
  exit 2
fi
bin=$1
libs=$(ldd "$bin") || { echo "check_no_llvm: ldd '$bin' failed" >&2; exit 1; }
if printf '%s\n' "$libs" | grep -i llvm; then
  echo "check_no_llvm: $bin loads LLVM (the libraries above)" >&2
  exit 1
fi
syms=$(nm -C "$bin" 2>/dev/null) || { echo "check_no_llvm: nm '$bin' failed" >&2; exit 1; }
if printf '%s\n' "$syms" | grep -m 5 'llvm::'; then
  echo "check_no_llvm: $bin holds LLVM code (the symbols above, among others)" >&2
  exit 1
fi
echo "$bin: no LLVM among $(printf '%s\n' "$libs" | wc -l) shared libraries and its symbols"
