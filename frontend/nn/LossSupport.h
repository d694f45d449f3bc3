//===- frontend/nn/LossSupport.h - checks shared by losses and metrics ----===//
#pragma once

#include "frontend/Graph.h"

#include <string_view>

namespace weft::nn::detail {

/// Checks logits [..., C] (float, rank >= 1) against labels [...] (integer) and, when given, a
/// mask of the labels' shape; throws at `loc` naming `what` and the shapes.
void checkClassification(std::string_view what, const Tensor &logits, const Tensor &labels,
                         const Tensor *mask, SrcLoc loc);

/// Whether position [...] of logits [..., C] predicts labels [...]: one-hot selection as a
/// float of the logits' dtype, 1 at the label's class. Labels outside [0, C) select nothing.
Tensor labelOneHot(const Tensor &logits, const Tensor &labels, SrcLoc loc);

/// sum(values * w) / max(sum(w), tiny): the mask-weighted mean, 0 for an all-zero mask.
Tensor maskedMean(const Tensor &values, const Tensor &mask, SrcLoc loc);

} // namespace weft::nn::detail
