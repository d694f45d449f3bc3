#!/usr/bin/env bash
# Installs the Debian 12 packages weft needs that are not installed yet. Safe to re-run.
set -euo pipefail

packages=(
  build-essential cmake ninja-build python3     # toolchain; python3 runs lit
  llvm-19-dev llvm-19-tools                    # LLVM 19 (codegen), FileCheck and lit for tests
  clang-19 libclang-rt-19-dev                  # libFuzzer for the parser fuzzer
  libfmt-dev doctest-dev libtbb-dev            # fmt, doctest, oneTBB
  libopenblas-dev                              # OpenBLAS: the peer of bench/matmul_bench
  nlohmann-json3-dev                           # JSON: safetensors checkpoint headers
  libcli11-dev                                 # CLI11: the tools' command lines
  libopenmpi-dev openmpi-bin                   # MPI: data-parallel training (optional in CMake)
  lld                                          # CI links with lld (ld.bfd takes twice as long)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
