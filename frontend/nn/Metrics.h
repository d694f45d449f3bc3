//===- frontend/nn/Metrics.h - evaluation metrics -------------------------===//
#pragma once

#include "frontend/Graph.h"

namespace weft::nn {

/// The fraction of positions where argmax(logits [..., C], -1) equals labels [...], as a
/// scalar of the logits' dtype (no gradient flows through it).
Tensor accuracy(const Tensor &logits, const Tensor &labels, SrcLoc loc = SrcLoc::current());
/// As above counting only positions with a nonzero mask [...] (float or i1), weighted by it;
/// an all-zero mask gives 0.
Tensor accuracy(const Tensor &logits, const Tensor &labels, const Tensor &mask,
                SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
