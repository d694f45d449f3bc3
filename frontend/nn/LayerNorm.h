//===- frontend/nn/LayerNorm.h - layer normalization (nn.LayerNorm) -------===//
//
// Over the last k dims of x, those of normalized_shape:
//   mu = mean x, var = mean (x - mu)^2 (biased), y = (x - mu) / sqrt(var + eps) * weight + bias
// Parameters "<scope>.weight" (ones) and "<scope>.bias" (zeros), of normalized_shape.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

#include <vector>

namespace weft::nn {

struct LayerNormOptions {
  double eps = 1e-5;
  /// Learnable weight and bias (PyTorch's elementwise_affine).
  bool affine = true;

  // Setters for one-line options: LayerNormOptions().withEps(1e-6).
  LayerNormOptions &withEps(double e) {
    eps = e;
    return *this;
  }
  LayerNormOptions &withoutAffine() {
    affine = false;
    return *this;
  }
};

/// Throws at `loc` naming the layer and both shapes when x does not end in normalizedShape.
Tensor layerNorm(const Scope &s, const Tensor &x, const std::vector<int64_t> &normalizedShape,
                 const LayerNormOptions &options = {}, SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
