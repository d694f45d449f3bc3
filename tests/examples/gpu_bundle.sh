#!/usr/bin/env bash
# Builds the GPU round's bundle (bench/gpu.sh) into OUT and checks what can be checked without
# a GPU: it builds and stays under 64 MiB (gpu.sh fails otherwise), the LSTM has GPU code, its CPU-only path passes
# (the parity checks and the training example, on the CPU), --dry-run lists the round, and
# each program, asked for the GPU, fails with "no CUDA device" where there is none.
#   tests/examples/gpu_bundle.sh OUT BUILD_DIR
set -euo pipefail
out=$1 build=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$root/bench/gpu.sh" "$out" "$build" | tee "$log"
# Every function of the round has GPU code, the LSTM's and the training steps' included.
for fn in lstm lstm_loss_step mlp_step attention_fused; do
  grep -Eq "^$fn +ready$" "$log"
done
"$out/run.sh" --device cpu --no-peers | tee "$out/cpu.log"
grep -q "^parity elementwise ok" "$out/cpu.log"
grep -q "^parity mlp_step ok" "$out/cpu.log"
grep -q "^parity attention_grad ok" "$out/cpu.log"
grep -q "== done: every check passed" "$out/cpu.log"
"$out/run.sh" --dry-run > "$out/dry.log"
grep -q "bin/weft-gpu bench lstm --device cuda" "$out/dry.log"
grep -q "python3 .*peers.py" "$out/dry.log"
if [ -z "${WEFT_NO_GPU:-}" ] && ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1'; then
  echo "a CUDA driver is installed here: run $out/run.sh for the GPU round"
  exit 0
fi
export LD_LIBRARY_PATH="$out/lib"
for fn in elementwise lstm attention; do
  set +e
  "$out/bin/weft-gpu" bench "$fn" --device cuda 2> "$out/err.txt"
  status=$?
  set -e
  [ "$status" -eq 1 ]
  grep -q "^no CUDA device: " "$out/err.txt"
done
set +e
"$out/bin/weft-example-train-native" --device cuda 2> "$out/err.txt"
status=$?
set -e
[ "$status" -eq 1 ]
grep -q "^weft-example-train-native: no CUDA device: " "$out/err.txt"
echo "gpu bundle: built, CPU path passed, no CUDA device reported cleanly"
