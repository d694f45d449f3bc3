//===- frontend/nn/Losses.cpp ---------------------------------------------===//
#include "frontend/nn/Losses.h"

#include "frontend/Ops.h"
#include "frontend/nn/Activations.h"
#include "frontend/nn/LossSupport.h"

#include <fmt/format.h>

namespace weft::nn {
namespace {

Axes allAxes(const Tensor &x) {
  Axes axes;
  for (int64_t i = 0; i < x.rank(); ++i)
    axes.push_back(i);
  return axes;
}

void checkSameShape(std::string_view what, const Tensor &a, const char *aName, const Tensor &b,
                    const char *bName, SrcLoc loc) {
  if (!a.valid() || !b.valid())
    throwAt(loc, fmt::format("{}: an input tensor is empty (default-constructed)", what));
  if (a.type() != b.type() || !isFloat(a.dtype()))
    throwAt(loc, fmt::format("{}: {} {} and {} {} must have one float type", what, aName,
                             a.type().str(), bName, b.type().str()));
}

/// -log_softmax(logits)[label] per position: [...].
Tensor negLogLikelihood(const Tensor &logits, const Tensor &labels, SrcLoc loc) {
  Tensor logp = log_softmax(logits, -1, loc);
  Tensor picked =
      select(detail::labelOneHot(logits, labels, loc), logp, full_like(logp, 0.0, loc), loc);
  return neg(sum(picked, {-1}, /*keepdims=*/false, loc), loc);
}

} // namespace

Tensor mseLoss(const Tensor &pred, const Tensor &target, SrcLoc loc) {
  checkSameShape("mse_loss", pred, "prediction", target, "target", loc);
  Tensor d = sub(pred, target, loc);
  return mean(mul(d, d, loc), allAxes(d), /*keepdims=*/false, loc);
}

Tensor crossEntropy(const Tensor &logits, const Tensor &labels, SrcLoc loc) {
  detail::checkClassification("cross_entropy", logits, labels, nullptr, loc);
  Tensor nll = negLogLikelihood(logits, labels, loc);
  return mean(nll, allAxes(nll), /*keepdims=*/false, loc);
}

Tensor crossEntropy(const Tensor &logits, const Tensor &labels, const Tensor &mask, SrcLoc loc) {
  detail::checkClassification("cross_entropy", logits, labels, &mask, loc);
  return detail::maskedMean(negLogLikelihood(logits, labels, loc), mask, loc);
}

Tensor bceWithLogits(const Tensor &logits, const Tensor &targets, SrcLoc loc) {
  checkSameShape("binary_cross_entropy_with_logits", logits, "logits", targets, "targets", loc);
  Tensor l = sub(softplus(logits, loc), mul(logits, targets, loc), loc);
  return mean(l, allAxes(l), /*keepdims=*/false, loc);
}

Tensor l2Penalty(const std::vector<Tensor> &params, SrcLoc loc) {
  if (params.empty())
    throwAt(loc, "l2_penalty: no parameters given");
  Tensor total;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor &p = params[i];
    if (!p.valid())
      throwAt(loc, fmt::format("l2_penalty: parameter {} is an empty tensor", i));
    if (!isFloat(p.dtype()) || p.dtype() != params[0].dtype())
      throwAt(loc, fmt::format("l2_penalty: parameter {} is {}; all must share the float dtype "
                               "of the first, {}",
                               i, p.type().str(), params[0].type().str()));
    Tensor sq = sum(mul(p, p, loc), allAxes(p), /*keepdims=*/false, loc);
    total = total.valid() ? add(total, sq, loc) : sq;
  }
  return total;
}

} // namespace weft::nn
