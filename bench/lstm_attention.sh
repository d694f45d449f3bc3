#!/usr/bin/env bash
# The sort-letters greedy decoder with attention (weft-bench-seq2seq --attention), decoded with
# fuse-lstm-attention on (the `optimize` pipeline with it after fuse-additive-attention) and off
# (`optimize`: the cell, additive_attention and the attention vector as separate kernels),
# interleaved over several passes; prints each pass and the medians' ratio, for Bahdanau's and
# Luong's score.
#   bench/lstm_attention.sh [BUILD_DIR] [PASSES] [extra weft-bench-seq2seq options, e.g. --cpu-time]
set -euo pipefail
build=${1:-build/release}
passes=${2:-5}
shift $(( $# > 2 ? 2 : $# ))
bench="$build/bench/weft-bench-seq2seq"
off=optimize
# passes/Passes.def's `optimize` with fuse-lstm-attention.
on=canonicalize,fuse-attention,licm,fuse-additive-attention,fuse-lstm-attention,fuse-lstm,fuse-gru,fuse-rnn,hoist-input-projections,fuse-elementwise,dce
uptime
for score in bahdanau luong; do
  ons=() offs=()
  for ((p = 0; p < passes; ++p)); do
    ons+=("$("$bench" --mode decode --attention "$score" --decoder-passes "$on" --raw "$@" | awk '{print $6}')")
    offs+=("$("$bench" --mode decode --attention "$score" --decoder-passes "$off" --raw "$@" | awk '{print $6}')")
    echo "$score pass $p: fused ${ons[-1]} us, unfused ${offs[-1]} us"
  done
  median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
  mon=$(median "${ons[@]}") moff=$(median "${offs[@]}")
  awk -v s="$score" -v a="$mon" -v b="$moff" \
    'BEGIN {printf "%s greedy decode: fused %.1f us, unfused %.1f us, speedup %.2fx\n", s, a, b, b / a}'
done
uptime
