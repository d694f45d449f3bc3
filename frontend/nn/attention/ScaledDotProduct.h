//===- frontend/nn/attention/ScaledDotProduct.h - softmax(Q K^T s + M) V --===//
//
//   q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv]
//   weights = softmax(q k^T * scale + mask, axis -1)        [..., Lq, Lk]
//   output  = weights v                                     [..., Lq, dv]
//
// scale defaults to 1/sqrt(d). The mask is additive (nn/attention/Masks.h) and broadcasts
// numpy-style to [..., Lq, Lk]. Only primitive ops are emitted, in exactly this form, so that
// the attention fusion pass recognizes it. Dropout on the weights, when asked for, sits between
// the softmax and the product with v, as in torch.nn.functional.scaled_dot_product_attention.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

#include <optional>

namespace weft::nn {

struct AttentionOutput {
  Tensor output;
  /// The attention weights after the softmax (before dropout).
  Tensor weights;
};

struct AttentionOptions {
  /// Default 1/sqrt(d).
  std::optional<double> scale;
  /// Dropout probability on the weights; used only when `dropoutScope` is training.
  double dropout = 0.0;
  const Scope *dropoutScope = nullptr;

  AttentionOptions &withScale(double s) {
    scale = s;
    return *this;
  }
  AttentionOptions &withDropout(const Scope &s, double p) {
    dropoutScope = &s;
    dropout = p;
    return *this;
  }
};

/// See the file comment. `mask` may be empty (no mask). Throws at `loc` naming the shapes when
/// q, k and v do not fit together.
AttentionOutput scaledDotProductAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                                          const Tensor &mask = {},
                                          const AttentionOptions &options = {},
                                          SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
