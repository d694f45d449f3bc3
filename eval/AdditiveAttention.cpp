//===- eval/AdditiveAttention.cpp - Bahdanau's attention, the naive formula ===//
//
// The oracle for fuse-additive-attention and the CPU backend's kernel, in double:
//
//   s[b, j] = sum_a v[a] tanh(kp[b, j, a] + qp[b, a]) + mask[b, j]     qp [B,A], kp [B,S,A]
//   w[b, :] = softmax(s[b, :])                   zeros when every s[b, j] is -inf (or S = 0)
//   context[b] = sum_j w[b, j] values[b, j]      values [B,S,D]
//
//===----------------------------------------------------------------------===//
#include "eval/Kernels.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace weft::eval::detail {

Expected<std::vector<Array>> evalAdditiveAttention(const ir::Op &op, Operands xs) {
  if (xs.size() != 4 && xs.size() != 5)
    return opError(op, fmt::format("expects 4 or 5 operands, got {}", xs.size()));
  const Array &qp = *xs[0], &kp = *xs[1], &v = *xs[2], &values = *xs[3];
  const Array *mask = xs.size() == 5 ? xs[4] : nullptr;
  bool ok = qp.rank() == 2 && kp.rank() == 3 && v.rank() == 1 && values.rank() == 3;
  int64_t B = ok ? qp.shape()[0] : 0, A = ok ? qp.shape()[1] : 0, S = ok ? kp.shape()[1] : 0;
  int64_t D = ok ? values.shape()[2] : 0;
  ok = ok && kp.shape() == Shape{B, S, A} && v.shape() == Shape{A} && values.shape()[0] == B &&
       values.shape()[1] == S && (!mask || mask->shape() == Shape{B, S});
  if (!ok)
    return opError(op, fmt::format("operands do not fit: qp {}, kp {}, v {}, values {}{}",
                                   qp.typeStr(), kp.typeStr(), v.typeStr(), values.typeStr(),
                                   mask ? ", mask " + mask->typeStr() : std::string()));
  auto context = makeArray(qp.dtype(), {B, D});
  WEFT_TRY(context.status());
  auto weights = makeArray(qp.dtype(), {B, S});
  WEFT_TRY(weights.status());
  constexpr double ninf = -std::numeric_limits<double>::infinity();
  std::vector<double> s(static_cast<size_t>(S));
  for (int64_t b = 0; b < B; ++b) {
    double top = ninf;
    for (int64_t j = 0; j < S; ++j) {
      double acc = 0;
      for (int64_t a = 0; a < A; ++a)
        acc +=
            v.getDouble(a) * std::tanh(kp.getDouble((b * S + j) * A + a) + qp.getDouble(b * A + a));
      if (mask)
        acc += mask->getDouble(b * S + j);
      s[static_cast<size_t>(j)] = acc;
      top = std::max(top, acc);
    }
    if (top == ninf)
      continue; // no key to attend to: zero weights, zero context
    double sum = 0;
    for (double &x : s)
      sum += x = std::exp(x - top);
    for (int64_t j = 0; j < S; ++j) {
      double w = s[static_cast<size_t>(j)] / sum;
      weights->setDouble(b * S + j, w);
      for (int64_t d = 0; d < D; ++d)
        context->setDouble(b * D + d, context->getDouble(b * D + d) +
                                          w * values.getDouble((b * S + j) * D + d));
    }
  }
  std::vector<Array> out;
  out.push_back(std::move(*context));
  out.push_back(std::move(*weights));
  return out;
}

} // namespace weft::eval::detail
