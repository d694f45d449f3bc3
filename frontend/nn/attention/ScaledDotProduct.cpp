//===- frontend/nn/attention/ScaledDotProduct.cpp -------------------------===//
#include "frontend/nn/attention/ScaledDotProduct.h"

#include "frontend/Ops.h"
#include "frontend/nn/Dropout.h"

#include <fmt/format.h>

#include <cmath>

namespace weft::nn {
namespace {

/// k with its last two axes swapped.
Tensor transposeLast(const Tensor &k, SrcLoc loc) {
  Axes perm;
  for (int64_t i = 0; i < k.rank(); ++i)
    perm.push_back(i);
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return transpose(k, perm, loc);
}

void checkShapes(const Tensor &q, const Tensor &k, const Tensor &v, SrcLoc loc) {
  for (const Tensor *t : {&q, &k, &v})
    if (!t->valid() || t->rank() < 2 || !isFloat(t->dtype()))
      throwAt(loc, "nn scaledDotProductAttention: q, k and v must be float tensors of rank >= 2");
  auto shapes = [&] {
    return fmt::format("q {}, k {}, v {}", q.type().shapeStr(), k.type().shapeStr(),
                       v.type().shapeStr());
  };
  if (q.shape().back() != k.shape().back())
    throwAt(loc, fmt::format("nn scaledDotProductAttention: q and k differ in their last "
                             "(feature) dim: {}",
                             shapes()));
  if (k.shape()[size_t(k.rank() - 2)] != v.shape()[size_t(v.rank() - 2)])
    throwAt(loc, fmt::format("nn scaledDotProductAttention: k and v differ in their number of "
                             "keys (dim -2): {}",
                             shapes()));
}

} // namespace

AttentionOutput scaledDotProductAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                                          const Tensor &mask, const AttentionOptions &options,
                                          SrcLoc loc) {
  checkShapes(q, k, v, loc);
  Dim d = q.shape().back();
  if (!options.scale && !d.isStatic())
    throwAt(loc, "nn scaledDotProductAttention: the default scale needs a static feature dim");
  double scale = options.scale.value_or(1.0 / std::sqrt(double(d.size())));
  Tensor scores = At(matmul(q, transposeLast(k, loc), loc), loc) * scale;
  if (mask.valid()) {
    if (mask.dtype() != q.dtype())
      throwAt(loc, fmt::format("nn scaledDotProductAttention: the mask is additive and must have "
                               "the dtype of q ({}), got {}; see nn::additiveMask",
                               dtypeName(q.dtype()), mask.type().str()));
    scores = add(scores, mask, loc);
  }
  Tensor weights = softmax(scores, -1, loc);
  Tensor dropped = weights;
  if (options.dropoutScope && options.dropout > 0.0)
    dropped = dropout(*options.dropoutScope, weights, options.dropout, loc);
  return {matmul(dropped, v, loc), weights};
}

} // namespace weft::nn
