//===- frontend/nn/attention/PositionalEncoding.h - sinusoidal positions --===//
//
// Vaswani et al. (2017), section 3.5: for position p and feature pair i < d / 2,
//   pe[p, 2i] = sin(p / 10000^(2i / d)),   pe[p, 2i + 1] = cos(p / 10000^(2i / d)).
// Built in the graph from iota, so the length may be a symbolic dim.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Graph.h"

namespace weft::nn {

/// pe [length, dModel] as above; dModel must be even.
Tensor sinusoidalPositions(Dim length, int64_t dModel, DType dtype = DType::F32,
                           SrcLoc loc = SrcLoc::current());

/// x + pe: x is [L, B, d] (sequence-major) or, with batchFirst, [B, L, d].
Tensor addPositions(const Tensor &x, bool batchFirst = false, SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
