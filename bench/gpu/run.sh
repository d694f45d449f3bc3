#!/usr/bin/env bash
# The GPU round, run on the GPU machine from the bundle bench/gpu.sh built (it needs the CUDA
# driver and, for the peers, python3 with PyTorch; no LLVM, no compiler, no network):
#
#   ./run.sh [--device cuda|cpu] [--dry-run] [--no-peers] [--seconds S]
#
# 1. the parity checks: each function's GPU results against the reference interpreter's;
# 2. the native training example with --device cuda (300 Adam steps; it fails unless the loss
#    falls tenfold);
# 3. the benchmarks (LSTM inference and training, attention) and their PyTorch peers
#    (peers.py), then the table of ratios and fractions of peak (summary.py).
# Everything is logged under results/. --device cpu runs steps 1 and 2 on the CPU (the bundle's
# CPU-only path, for a machine without a GPU); --dry-run prints the commands only. Each
# program gets at most 120 s; the whole round stays under 8 minutes.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
device=cuda dry=0 peers=1 seconds=3
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift ;;
    --dry-run) dry=1 ;;
    --no-peers) peers=0 ;;
    --seconds) seconds=$2; shift ;;
    *) echo "usage: run.sh [--device cuda|cpu] [--dry-run] [--no-peers] [--seconds S]" >&2
       exit 2 ;;
  esac
  shift
done
results=$here/results
mkdir -p "$results"
: > "$results/weft.txt"
: > "$results/peers.txt"
failed=0

run() { # run LOG COMMAND...: prints the command, runs it (unless --dry-run), tees its output
  local log=$1
  shift
  echo "+ $*"
  [ $dry = 1 ] && return 0
  timeout 120 "$@" 2>&1 | tee -a "$log"
  return "${PIPESTATUS[0]}"
}

gpu="(no GPU: --device cpu)"
if [ "$device" = cuda ]; then
  gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  [ -n "$gpu" ] || gpu="unknown GPU (nvidia-smi found none)"
fi
echo "== weft GPU round on $gpu, device $device"

echo "== parity against the reference interpreter"
while IFS=$'\t' read -r kind fn _; do
  [ "$kind" = parity ] || continue
  run "$results/parity.txt" "$here/bin/weft-gpu" parity "$fn" "$here/parity/$fn" --device "$device"
  case $? in 0|3) ;; *) failed=1 ;; esac
done < "$here/manifest.tsv"

echo "== training example"
run "$results/train.txt" "$here/bin/weft-example-train-native" --device "$device" --steps 300 ||
  failed=1

if [ "$device" = cuda ]; then
  echo "== benchmarks"
  while IFS=$'\t' read -r kind fn _; do
    [ "$kind" = bench ] || continue
    run "$results/weft.txt" "$here/bin/weft-gpu" bench "$fn" --device cuda --seconds "$seconds"
    case $? in 0|3) ;; *) failed=1 ;; esac
  done < "$here/manifest.tsv"
  if [ $peers = 1 ]; then
    run "$results/peers.txt" python3 "$here/peers.py" --seconds "$seconds" || true
  fi
  [ $dry = 1 ] || python3 "$here/summary.py" "$here/manifest.tsv" "$results/weft.txt" \
    "$results/peers.txt" "$gpu" | tee "$results/summary.txt"
fi
[ $failed = 0 ] && echo "== done: every check passed or was skipped with its reason" ||
  echo "== done: some check FAILED (results/)"
exit $failed
