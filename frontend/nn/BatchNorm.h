//===- frontend/nn/BatchNorm.h - batch normalization (nn.BatchNorm1d) -----===//
//
// Over x [N, C], per feature c:
//   train: mu = mean_n x, var = mean_n (x - mu)^2 (biased),
//          y = (x - mu) / sqrt(var + eps) * weight + bias,
//          running_mean' = (1 - m) running_mean + m mu,
//          running_var'  = (1 - m) running_var + m var N / (N - 1) (unbiased, as PyTorch),
//          num_batches_tracked' = num_batches_tracked + 1
//   eval:  y = (x - running_mean) / sqrt(running_var + eps) * weight + bias; state unchanged.
//
// Parameters "<scope>.weight", "<scope>.bias" [C] (ones, zeros); buffers (non-trainable
// state, Scope::buffer) "<scope>.running_mean" [C] (zeros), "<scope>.running_var" [C] (ones)
// and "<scope>.num_batches_tracked" (i64 scalar, 0): nn.BatchNorm1d's state_dict. A graph
// has no mutable state, so the layer returns the updated buffers; the caller outputs them and
// feeds them back as the buffers' values on the next call.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

namespace weft::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;
  /// Learnable weight and bias.
  bool affine = true;

  // Setters for one-line options: BatchNormOptions().withMomentum(0.01).
  BatchNormOptions &withEps(double e) {
    eps = e;
    return *this;
  }
  BatchNormOptions &withMomentum(double m) {
    momentum = m;
    return *this;
  }
  BatchNormOptions &withoutAffine() {
    affine = false;
    return *this;
  }
};

struct BatchNormResult {
  Tensor y;
  /// The buffers after this call: updated in training, the inputs themselves in eval.
  Tensor runningMean, runningVar, numBatchesTracked;
};

/// Batch norm of x [N, C] with C = numFeatures, in the scope's mode. Throws at `loc` naming
/// the layer and both shapes when x is not [N, numFeatures], and for N = 1 in training.
BatchNormResult batchNorm1d(const Scope &s, const Tensor &x, int64_t numFeatures,
                            const BatchNormOptions &options = {}, SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
