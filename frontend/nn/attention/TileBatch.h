//===- frontend/nn/attention/TileBatch.h - tf.contrib.seq2seq's tile_batch --===//
//
// Beam search runs K hypotheses of each example as K adjacent rows of one batch: row b*K + k is
// beam k of example b. What the decoder reads per example (an attention's memory, its key
// projection, its mask) is repeated the same way.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Tensor.h"

namespace weft::nn {

/// [B, rest...] -> [B*times, rest...], each example's row repeated `times` times, the copies
/// adjacent. Throws at `loc` for a scalar `x` or `times` below 1.
Tensor tileBatch(const Tensor &x, int64_t times, SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
