//===- eval/LstmAttentionStep.cpp - an LSTM decoder step with attention, naive ===//
//
// The oracle for lstm_attention_step (ir/Ops.def), in double, written as the ops it replaces:
//
//   z = x[b] . wx + h[b] . wh + bias                       [4H], gates i, f, g, o
//   c2[b] = sigmoid(z_f) c[b] + sigmoid(z_i) tanh(z_g);  h2[b] = sigmoid(z_o) tanh(c2[b])
//   s[b, j] = v . tanh(kp[b, j] + h2[b] . wq)  (+ mask[b, j])            Bahdanau
//           | g (h2[b] . kp[b, j])             (+ mask[b, j])            {luong}
//   weights[b] = softmax(s[b])              zeros when every s[b, j] is -inf (or S = 0)
//   context[b] = sum_j weights[b, j] values[b, j]
//   att[b] = concat(h2[b], context[b]) . wa
//
// h2, c2 and the weights are rounded to the op's dtype before they are used further, as the
// unfused ops' results are; the query projection and the context are too.
//
//===----------------------------------------------------------------------===//
#include "eval/Kernels.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace weft::eval::detail {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// `x` rounded to `dt` (f32 or f64).
double rounded(double x, DType dt) {
  return dt == DType::F32 ? static_cast<double>(static_cast<float>(x)) : x;
}

} // namespace

Expected<std::vector<Array>> evalLstmAttentionStep(const ir::Op &op, Operands xs) {
  const bool luong = op.luong();
  const size_t base = luong ? 10 : 11;
  if (xs.size() != base && xs.size() != base + 1)
    return opError(op, fmt::format("expects {} or {} operands, got {}", base, base + 1, xs.size()));
  size_t n = 0;
  const Array &x = *xs[n++], &h = *xs[n++], &c = *xs[n++], &wx = *xs[n++], &wh = *xs[n++],
              &bias = *xs[n++];
  const Array *wq = luong ? nullptr : xs[n++];
  const Array &kp = *xs[n++];
  const Array &v = *xs[n++]; // v [A], or Luong's scale g []
  const Array &values = *xs[n++], &wa = *xs[n++];
  const Array *mask = xs.size() == base + 1 ? xs[n++] : nullptr;
  bool ok =
      x.rank() == 2 && h.rank() == 2 && kp.rank() == 3 && values.rank() == 3 && wa.rank() == 2;
  const int64_t B = ok ? x.shape()[0] : 0, I = ok ? x.shape()[1] : 0, H = ok ? h.shape()[1] : 0;
  const int64_t S = ok ? kp.shape()[1] : 0, A = ok ? kp.shape()[2] : 0;
  const int64_t D = ok ? values.shape()[2] : 0, N = ok ? wa.shape()[1] : 0;
  ok = ok && h.shape() == Shape{B, H} && c.shape() == Shape{B, H} &&
       wx.shape() == Shape{I, 4 * H} && wh.shape() == Shape{H, 4 * H} &&
       bias.shape() == Shape{4 * H} && kp.shape()[0] == B &&
       (luong ? A == H && v.shape() == Shape{}
              : wq->shape() == Shape{H, A} && v.shape() == Shape{A}) &&
       values.shape()[0] == B && values.shape()[1] == S && wa.shape() == Shape{H + D, N} &&
       (!mask || mask->shape() == Shape{B, S});
  if (!ok)
    return opError(op, fmt::format("operands do not fit: x {}, h {}, kp {}, values {}, wa {}",
                                   x.typeStr(), h.typeStr(), kp.typeStr(), values.typeStr(),
                                   wa.typeStr()));
  const DType dt = x.dtype();
  auto h2 = makeArray(dt, {B, H});
  WEFT_TRY(h2.status());
  auto c2 = makeArray(dt, {B, H});
  WEFT_TRY(c2.status());
  auto att = makeArray(dt, {B, N});
  WEFT_TRY(att.status());
  auto weights = makeArray(dt, {B, S});
  WEFT_TRY(weights.status());
  constexpr double ninf = -std::numeric_limits<double>::infinity();
  std::vector<double> z(static_cast<size_t>(4 * H)), q(static_cast<size_t>(A)),
      s(static_cast<size_t>(S)), ctx(static_cast<size_t>(D));
  for (int64_t b = 0; b < B; ++b) {
    // The cell.
    for (int64_t j = 0; j < 4 * H; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < I; ++k)
        acc += x.getDouble(b * I + k) * wx.getDouble(k * 4 * H + j);
      double hacc = 0;
      for (int64_t k = 0; k < H; ++k)
        hacc += h.getDouble(b * H + k) * wh.getDouble(k * 4 * H + j);
      z[static_cast<size_t>(j)] = acc + hacc + bias.getDouble(j);
    }
    for (int64_t u = 0; u < H; ++u) {
      auto gate = [&](int64_t g) { return z[static_cast<size_t>(g * H + u)]; };
      double cNew =
          sigmoid(gate(1)) * c.getDouble(b * H + u) + sigmoid(gate(0)) * std::tanh(gate(2));
      c2->setDouble(b * H + u, cNew);
      h2->setDouble(b * H + u, sigmoid(gate(3)) * std::tanh(c2->getDouble(b * H + u)));
    }
    // The query and the scores.
    for (int64_t a = 0; a < A && !luong; ++a) {
      double acc = 0;
      for (int64_t k = 0; k < H; ++k)
        acc += h2->getDouble(b * H + k) * wq->getDouble(k * A + a);
      q[static_cast<size_t>(a)] = rounded(acc, dt);
    }
    double top = ninf;
    for (int64_t j = 0; j < S; ++j) {
      double acc = 0;
      for (int64_t a = 0; a < A; ++a) {
        double key = kp.getDouble((b * S + j) * A + a);
        acc += luong ? h2->getDouble(b * H + a) * key
                     : v.getDouble(a) * std::tanh(key + q[static_cast<size_t>(a)]);
      }
      if (luong)
        acc *= v.getDouble(0);
      if (mask)
        acc += mask->getDouble(b * S + j);
      s[static_cast<size_t>(j)] = acc;
      top = std::max(top, acc);
    }
    // The softmax and the context (zeros for a row with no key to attend to).
    std::fill(ctx.begin(), ctx.end(), 0.0);
    if (top != ninf) {
      double sum = 0;
      for (double &e : s)
        sum += e = std::exp(e - top);
      for (int64_t j = 0; j < S; ++j) {
        weights->setDouble(b * S + j, s[static_cast<size_t>(j)] / sum);
        double w = weights->getDouble(b * S + j);
        for (int64_t d = 0; d < D; ++d)
          ctx[static_cast<size_t>(d)] += w * values.getDouble((b * S + j) * D + d);
      }
    }
    // The attention vector.
    for (int64_t m = 0; m < N; ++m) {
      double acc = 0;
      for (int64_t k = 0; k < H; ++k)
        acc += h2->getDouble(b * H + k) * wa.getDouble(k * N + m);
      for (int64_t d = 0; d < D; ++d)
        acc += rounded(ctx[static_cast<size_t>(d)], dt) * wa.getDouble((H + d) * N + m);
      att->setDouble(b * N + m, acc);
    }
  }
  std::vector<Array> out;
  out.push_back(std::move(*h2));
  out.push_back(std::move(*c2));
  out.push_back(std::move(*att));
  out.push_back(std::move(*weights));
  return out;
}

} // namespace weft::eval::detail
