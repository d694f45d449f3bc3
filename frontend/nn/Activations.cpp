//===- frontend/nn/Activations.cpp ----------------------------------------===//
#include "frontend/nn/Activations.h"

#include <fmt/format.h>

#include <cmath>
#include <numbers>

namespace weft::nn {
namespace {

// The scalar operators with the caller's location, so the IR of a layer points at the user's
// line.
Tensor times(const Tensor &x, double c, SrcLoc loc) { return At(x, loc) * c; }
Tensor plus(const Tensor &x, double c, SrcLoc loc) { return At(x, loc) + c; }

} // namespace

Tensor gelu(const Tensor &x, GeluApprox approx, SrcLoc loc) {
  if (approx == GeluApprox::None)
    return mul(times(x, 0.5, loc), plus(erf(times(x, std::numbers::sqrt2 / 2, loc), loc), 1.0, loc),
               loc);
  const double k = std::sqrt(2.0 / std::numbers::pi);
  Tensor inner = times(add(x, times(pow(x, 3.0, loc), 0.044715, loc), loc), k, loc);
  return mul(times(x, 0.5, loc), plus(tanh(inner, loc), 1.0, loc), loc);
}

Tensor elu(const Tensor &x, double alpha, SrcLoc loc) {
  Tensor zero = full_like(x, 0.0, loc);
  // exp(min(x, 0)) <= 1: no overflow where x > 0 selects the other branch.
  Tensor negative = times(plus(exp(min(x, zero, loc), loc), -1.0, loc), alpha, loc);
  return select(gt(x, zero, loc), x, negative, loc);
}

Tensor selu(const Tensor &x, SrcLoc loc) {
  return times(elu(x, kSeluAlpha, loc), kSeluLambda, loc);
}

Tensor leakyRelu(const Tensor &x, double slope, SrcLoc loc) {
  if (!(slope >= 0.0 && slope < 1.0))
    throwAt(loc, fmt::format("nn leakyRelu: negative_slope must be in [0, 1), got {}", slope));
  // For slope < 1, max(x, slope x) is x where x > 0 and slope x elsewhere.
  return max(x, times(x, slope, loc), loc);
}

Tensor softplus(const Tensor &x, SrcLoc loc) {
  // x >= 0: x + log(1 + exp(-x)); x < 0: log(1 + exp(x)). max / min keep each exp <= 1 in both
  // branches; at x = 0 max's tie goes to x, so the gradient there is 1 - 1/2.
  Tensor zero = full_like(x, 0.0, loc);
  Tensor pos = add(x, log(plus(exp(neg(max(x, zero, loc), loc), loc), 1.0, loc), loc), loc);
  Tensor negBranch = log(plus(exp(min(x, zero, loc), loc), 1.0, loc), loc);
  return select(ge(x, zero, loc), pos, negBranch, loc);
}

} // namespace weft::nn
