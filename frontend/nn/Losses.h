//===- frontend/nn/Losses.h - training losses -----------------------------===//
//
// Each loss returns a scalar of the input's float dtype, averaged as PyTorch's
// default reduction='mean' does, and is built from primitive ops so autodiff
// differentiates it like any other graph. Shape mistakes throw at the caller's
// line naming the loss and both shapes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Graph.h"

#include <vector>

namespace weft::nn {

/// mean((pred - target)^2) over every element; pred and target have one shape.
Tensor mseLoss(const Tensor &pred, const Tensor &target, SrcLoc loc = SrcLoc::current());

/// Cross-entropy of logits [..., C] against integer labels [...]: the mean over positions of
/// logsumexp(logits) - logits[label], computed through log_softmax (stable for any logits).
Tensor crossEntropy(const Tensor &logits, const Tensor &labels, SrcLoc loc = SrcLoc::current());
/// As above with a mask [...] (float or i1): a position counts with its mask weight, so <PAD>
/// positions (mask 0) count for nothing, and the sum is divided by the sum of the mask: the
/// mean over real tokens (TF1's sequence_loss). An all-zero mask gives 0, not NaN.
Tensor crossEntropy(const Tensor &logits, const Tensor &labels, const Tensor &mask,
                    SrcLoc loc = SrcLoc::current());

/// Binary cross-entropy of logits against targets in [0, 1] of the same shape:
/// mean(softplus(x) - x y), stable for any x (torch's binary_cross_entropy_with_logits).
Tensor bceWithLogits(const Tensor &logits, const Tensor &targets, SrcLoc loc = SrcLoc::current());

/// The L2 penalty sum_p sum(p^2) over `params` (no factor 1/2); scale it by the decay rate
/// and add it to a loss. The params share one float dtype.
Tensor l2Penalty(const std::vector<Tensor> &params, SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
