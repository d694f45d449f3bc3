//===- frontend/nn/LossSupport.cpp ----------------------------------------===//
#include "frontend/nn/LossSupport.h"

#include "frontend/Ops.h"

#include <fmt/format.h>

namespace weft::nn::detail {

void checkClassification(std::string_view what, const Tensor &logits, const Tensor &labels,
                         const Tensor *mask, SrcLoc loc) {
  if (!logits.valid() || !labels.valid() || (mask && !mask->valid()))
    throwAt(loc, fmt::format("{}: an input tensor is empty (default-constructed)", what));
  if (!isFloat(logits.dtype()) || logits.rank() < 1)
    throwAt(loc,
            fmt::format("{}: logits must be float [..., C], got {}", what, logits.type().str()));
  if (!isInteger(labels.dtype()))
    throwAt(loc, fmt::format("{}: labels must be integers, got {}", what, labels.type().str()));
  Shape lead(logits.shape().begin(), logits.shape().end() - 1);
  if (labels.shape() != lead)
    throwAt(loc, fmt::format("{}: labels {} do not match logits {} without its class dim", what,
                             labels.type().shapeStr(), logits.type().shapeStr()));
  if (mask && mask->shape() != labels.shape())
    throwAt(loc, fmt::format("{}: mask {} does not match labels {}", what, mask->type().shapeStr(),
                             labels.type().shapeStr()));
  if (mask && !isFloat(mask->dtype()) && mask->dtype() != DType::I1)
    throwAt(loc, fmt::format("{}: mask must be float or i1, got {}", what, mask->type().str()));
}

Tensor labelOneHot(const Tensor &logits, const Tensor &labels, SrcLoc loc) {
  Shape column = labels.shape();
  column.push_back(1);
  Tensor classes = iota(logits.shape(), logits.rank() - 1, labels.dtype(), loc);
  return eq(classes, reshape(labels, column, loc), loc);
}

Tensor maskedMean(const Tensor &values, const Tensor &mask, SrcLoc loc) {
  Tensor w = cast(mask, values.dtype(), loc);
  Axes all;
  for (int64_t i = 0; i < values.rank(); ++i)
    all.push_back(i);
  Tensor total = sum(mul(values, w, loc), all, /*keepdims=*/false, loc);
  Tensor weight = sum(w, all, /*keepdims=*/false, loc);
  return div(total, max(weight, full_like(weight, 1e-12, loc), loc), loc);
}

} // namespace weft::nn::detail
