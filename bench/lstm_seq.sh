#!/usr/bin/env bash
# An LSTM layer over a sequence: weft (weft-bench-lstm-seq, with and without
# hoist-input-projections) against PyTorch's nn.LSTM (lstm_seq_torch.py), per shape and thread
# count, run alternately so that load on the machine falls on both alike. Prints microseconds
# per call and weft / PyTorch time ratios (< 1: weft is faster).
#
# Usage: bench/lstm_seq.sh [BUILD_DIR] [TxBxIxH ...]
#   BUILD_DIR holds bench/weft-bench-lstm-seq (default: build); PYTHON overrides the
#   interpreter (default /usr/bin/python3, Debian's, which has python3-torch).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/../build}"
[ $# -gt 0 ] && shift
shapes=("$@")
[ ${#shapes[@]} -eq 0 ] && shapes=(100x64x256x256 100x32x512x512 100x1x256x256)
python="${PYTHON:-/usr/bin/python3}"
weft="$build/bench/weft-bench-lstm-seq"

if [ ! -x "$weft" ]; then
  echo "lstm_seq.sh: $weft not found; build the target weft-bench-lstm-seq first" >&2
  exit 2
fi
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "lstm_seq.sh: PyTorch is missing: '$python -c \"import torch\"' failed." >&2
  echo "  Install Debian's python3-torch (apt-get install python3-torch), or set PYTHON to an" >&2
  echo "  interpreter that has torch. No comparison was made." >&2
  exit 3
fi

echo "one LSTM layer over T steps, median microseconds per call; ratio = weft / PyTorch (< 1: weft faster)"
echo "$(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg); torch $("$python" -c 'import torch; print(torch.__version__)')"
printf '%4s %4s %5s %5s %3s %11s %11s %11s %8s %9s\n' T B I H thr "weft plain" "weft hoist" \
  nn.LSTM w/torch "hoist gain"
for shape in "${shapes[@]}"; do
  for threads in 1 2; do
    w=$("$weft" --raw --threads "$threads" "$shape")
    p=$("$python" "$here/lstm_seq_torch.py" --raw --threads "$threads" "$shape")
    read -r T B I H _ plain hoisted <<<"$w"
    read -r _ _ _ _ _ torch <<<"$p"
    awk -v T="$T" -v B="$B" -v I="$I" -v H="$H" -v t="$threads" -v p="$plain" -v h="$hoisted" \
      -v q="$torch" 'BEGIN { printf "%4d %4d %5d %5d %3d %11.1f %11.1f %11.1f %8.2f %8.2fx\n",
                             T, B, I, H, t, p, h, q, h / q, p / h }'
  done
done
