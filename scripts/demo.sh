#!/usr/bin/env bash
# Installs what is missing, builds weft, and runs the headline demo:
#   1. an LSTM layer written by hand in the C++ DSL, printed as IR and run on the interpreter;
#   2. weft-opt running passes over that IR, printing it after each one;
#   3. the first lesson of sequence models: gradients through 100 steps of a tanh RNN vanish,
#      an LSTM's need not (BPTT by autodiff), written to build/demo/vanishing_gradients.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release weft-example-lstm weft-example-vanishing weft-opt weft-run
bin=build/release
mkdir -p build/demo

echo "== 1. an LSTM written in the DSL (examples/lstm_by_hand.cpp), as IR, run on the interpreter"
"$bin/examples/weft-example-lstm" build/demo/lstm.wir

echo
echo "== 2. weft-opt --pipeline=optimize --print-after-all (canonicalize, licm, hoist-input-projections,"
echo "      fuse-elementwise, dce)"
"$bin/tools/weft-opt/weft-opt" build/demo/lstm.wir --pipeline=optimize --print-after-all \
  -o build/demo/lstm.opt.wir
echo "(optimized IR in build/demo/lstm.opt.wir)"

echo
echo "== 3. BPTT: ||dL/dh_t|| over 100 steps (examples/vanishing_gradients.cpp)"
"$bin/examples/weft-example-vanishing" build/demo/vanishing_gradients.svg
