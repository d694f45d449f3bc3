//===- frontend/nn/Metrics.cpp --------------------------------------------===//
#include "frontend/nn/Metrics.h"

#include "frontend/Ops.h"
#include "frontend/nn/LossSupport.h"

namespace weft::nn {
namespace {

/// 1 where argmax(logits, -1) == label, else 0, in the logits' dtype: [...].
Tensor hits(const Tensor &logits, const Tensor &labels, SrcLoc loc) {
  Tensor predicted = argmax(stop_gradient(logits, loc), -1, loc);
  return cast(eq(predicted, cast(labels, predicted.dtype(), loc), loc), logits.dtype(), loc);
}

} // namespace

Tensor accuracy(const Tensor &logits, const Tensor &labels, SrcLoc loc) {
  detail::checkClassification("accuracy", logits, labels, nullptr, loc);
  Tensor h = hits(logits, labels, loc);
  return detail::maskedMean(h, full_like(h, 1.0, loc), loc);
}

Tensor accuracy(const Tensor &logits, const Tensor &labels, const Tensor &mask, SrcLoc loc) {
  detail::checkClassification("accuracy", logits, labels, &mask, loc);
  return detail::maskedMean(hits(logits, labels, loc), mask, loc);
}

} // namespace weft::nn
