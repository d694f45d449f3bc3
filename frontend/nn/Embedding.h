//===- frontend/nn/Embedding.h - a lookup table (nn.Embedding) ------------===//
//
//   y[..., :] = W[idx[...], :]      idx [...] integer, W [num, dim], y [..., dim]
//
// Parameter "<scope>.weight" [num, dim]. With a padding index p, y at the
// positions where idx == p is W[p] (zero under the default initializer) and no
// gradient reaches row p, as in PyTorch: the lookup there goes through
// stop_gradient, so the row's gradient is exactly zero.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

#include <optional>

namespace weft::nn {

struct EmbeddingOptions {
  /// The padding row; negative values count from the end, as in PyTorch.
  std::optional<int64_t> paddingIdx;
  /// Default: PyTorch's, N(0, 1) with the padding row zero (init::torchEmbedding).
  std::optional<Init> init;
  DType dtype = DType::F32;

  // Setters for one-line options: EmbeddingOptions().withPaddingIdx(0).
  EmbeddingOptions &withPaddingIdx(int64_t p) {
    paddingIdx = p;
    return *this;
  }
  EmbeddingOptions &withInit(Init i) {
    init = i;
    return *this;
  }
  EmbeddingOptions &withDType(DType d) {
    dtype = d;
    return *this;
  }
};

/// Declares the table in `s` and looks up the integer indices `idx`. Indices out of
/// [0, numEmbeddings) are not checked at run time (gather's behaviour applies).
Tensor embedding(const Scope &s, const Tensor &idx, int64_t numEmbeddings, int64_t embeddingDim,
                 const EmbeddingOptions &options = {}, SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
