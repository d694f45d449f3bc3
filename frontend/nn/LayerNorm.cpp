//===- frontend/nn/LayerNorm.cpp ------------------------------------------===//
#include "frontend/nn/LayerNorm.h"

#include "frontend/Ops.h"
#include "frontend/nn/LayerLabel.h"

namespace weft::nn {

Tensor layerNorm(const Scope &s, const Tensor &x, const std::vector<int64_t> &normalizedShape,
                 const LayerNormOptions &options, SrcLoc loc) {
  std::string label = layerLabel("LayerNorm", s);
  requireInput(x, label, loc);
  Shape normShape(normalizedShape.begin(), normalizedShape.end());
  auto k = static_cast<int64_t>(normShape.size());
  bool fits = k > 0 && x.rank() >= k;
  for (int64_t i = 0; fits && i < k; ++i)
    fits = x.shape()[static_cast<size_t>(x.rank() - k + i)] == normShape[static_cast<size_t>(i)];
  if (!fits)
    throwAt(loc, fmt::format("{}: input {} does not end in normalized_shape {}", label,
                             x.type().shapeStr(), ir::Type(normShape, x.dtype()).shapeStr()));
  Axes axes;
  for (int64_t i = x.rank() - k; i < x.rank(); ++i)
    axes.push_back(i);
  Tensor mu = mean(x, axes, /*keepdims=*/true, loc);
  Tensor centered = sub(x, mu, loc);
  Tensor var = mean(mul(centered, centered, loc), axes, /*keepdims=*/true, loc);
  Tensor y = mul(centered, rsqrt(At(var, loc) + options.eps, loc), loc);
  if (!options.affine)
    return y;
  Tensor weight = s.param("weight", normShape, init::torchNormWeight(), x.dtype(), loc);
  Tensor bias = s.param("bias", normShape, init::torchNormBias(), x.dtype(), loc);
  return add(mul(y, weight, loc), bias, loc);
}

} // namespace weft::nn
