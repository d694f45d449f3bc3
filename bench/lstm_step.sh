#!/usr/bin/env bash
# One LSTM step: weft (weft-bench-lstm-step) against PyTorch (lstm_step_torch.py), per shape
# and thread count, run alternately so that load on the machine falls on both alike.
# Prints microseconds per step and weft / PyTorch time ratios (< 1: weft is faster): against
# the explicit ops, against nn.LSTMCell, and against PyTorch's best time at up to `thr`
# threads (on a small shared machine PyTorch's 2 threads can be slower than its 1).
#
# Usage: bench/lstm_step.sh [BUILD_DIR] [BxIxH ...]
#   BUILD_DIR holds bench/weft-bench-lstm-step (default: build); PYTHON overrides the
#   interpreter (default /usr/bin/python3, Debian's, which has python3-torch).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/../build}"
[ $# -gt 0 ] && shift
shapes=("$@")
[ ${#shapes[@]} -eq 0 ] && shapes=(64x256x256 32x512x512 64x128x1024 1x256x256 128x512x512)
python="${PYTHON:-/usr/bin/python3}"
weft="$build/bench/weft-bench-lstm-step"

if [ ! -x "$weft" ]; then
  echo "lstm_step.sh: $weft not found; build the target weft-bench-lstm-step first" >&2
  exit 2
fi
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "lstm_step.sh: PyTorch is missing: '$python -c \"import torch\"' failed." >&2
  echo "  Install Debian's python3-torch (apt-get install python3-torch), or set PYTHON to an" >&2
  echo "  interpreter that has torch. No comparison was made." >&2
  exit 3
fi

echo "one LSTM step, median microseconds per step; ratio = weft / PyTorch (< 1: weft faster)"
echo "$(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg); torch $("$python" -c 'import torch; print(torch.__version__)')"
printf '%5s %5s %5s %3s %10s %10s %10s %9s %9s %9s\n' B I H thr weft torch LSTMCell w/torch \
  w/cell w/best
for shape in "${shapes[@]}"; do
  best=""
  for threads in 1 2; do
    w=$("$weft" --raw --threads "$threads" "$shape")
    p=$("$python" "$here/lstm_step_torch.py" --raw --threads "$threads" "$shape")
    read -r B I H _ wus <<<"$w"
    read -r _ _ _ _ eus cus <<<"$p"
    best=$(printf '%s\n' $best "$eus" "$cus" | sort -g | head -n1)
    awk -v B="$B" -v I="$I" -v H="$H" -v t="$threads" -v w="$wus" -v e="$eus" -v c="$cus" \
      -v p="$best" 'BEGIN { printf "%5d %5d %5d %3d %10.1f %10.1f %10.1f %9.2f %9.2f %9.2f\n",
                            B, I, H, t, w, e, c, w / e, w / c, w / p }'
  done
done
