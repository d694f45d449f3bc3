//===- frontend/nn/Activations.h - nonlinearities of weft::nn -------------===//
//
// relu, tanh, sigmoid, softmax and log_softmax are the DSL's own (frontend/Ops.h)
// and are visible here as nn::relu etc. The others are composites of primitive
// ops, written so that neither branch of a select overflows (an exp that
// overflows in the branch not taken would still poison its gradient with 0 * inf).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Ops.h"

namespace weft::nn {

using weft::log_softmax;
using weft::relu;
using weft::sigmoid;
using weft::softmax;
using weft::tanh;

enum class GeluApprox { None, Tanh };

/// GELU: x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); with GeluApprox::Tanh,
/// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), as torch.nn.functional.gelu.
Tensor gelu(const Tensor &x, GeluApprox approx = GeluApprox::None, SrcLoc loc = SrcLoc::current());
/// ELU: x for x > 0, alpha (exp(x) - 1) otherwise.
Tensor elu(const Tensor &x, double alpha = 1.0, SrcLoc loc = SrcLoc::current());
/// SELU (Klambauer et al. 2017): lambda elu(x, alpha) with the constants that keep activations
/// at mean 0 and variance 1 through deep networks.
Tensor selu(const Tensor &x, SrcLoc loc = SrcLoc::current());
inline constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
inline constexpr double kSeluLambda = 1.0507009873554804934193349852946;
/// LeakyReLU: x for x > 0, slope x otherwise (slope in [0, 1), as torch's negative_slope).
Tensor leakyRelu(const Tensor &x, double slope = 0.01, SrcLoc loc = SrcLoc::current());
/// log(1 + exp(x)), stable for any x; its gradient at 0 is exactly 1/2.
Tensor softplus(const Tensor &x, SrcLoc loc = SrcLoc::current());

} // namespace weft::nn
