//===- frontend/nn/Linear.h - a fully connected layer (nn.Linear) ---------===//
//
//   y = x W^T + b      x [..., in], W [out, in], b [out], y [..., out]
//
// Parameters "<scope>.weight" [out, in] and "<scope>.bias" [out], laid out as
// nn.Linear's state_dict holds them, so PyTorch weights load unchanged.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

#include <optional>

namespace weft::nn {

struct LinearOptions {
  bool bias = true;
  /// Defaults: PyTorch's, U(-1/sqrt(in), 1/sqrt(in)) for both (init::torchLinear).
  std::optional<Init> weightInit, biasInit;

  // Setters for one-line options: LinearOptions().withoutBias().withWeightInit(...).
  LinearOptions &withoutBias() {
    bias = false;
    return *this;
  }
  LinearOptions &withWeightInit(Init i) {
    weightInit = i;
    return *this;
  }
  LinearOptions &withBiasInit(Init i) {
    biasInit = i;
    return *this;
  }
};

/// Declares the layer's parameters in `s` and applies it to `x` of any rank >= 1 whose last
/// dim is `inFeatures`. Throws at `loc` naming the layer and both shapes otherwise.
Tensor linear(const Scope &s, const Tensor &x, int64_t inFeatures, int64_t outFeatures,
              const LinearOptions &options = {}, SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
