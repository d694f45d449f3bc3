//===- frontend/nn/Residual.h - residual blocks ---------------------------===//
#pragma once

#include "frontend/Graph.h"

#include <functional>

namespace weft::nn {

/// x + block(x) (He et al. 2016). Throws at `loc` naming both shapes when the block changes
/// the shape or dtype of x: a residual connection adds the block's output to its input.
Tensor residual(const Tensor &x, const std::function<Tensor(const Tensor &)> &block,
                SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
