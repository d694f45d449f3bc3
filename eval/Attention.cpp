//===- eval/Attention.cpp - attention and its gradient, the naive formula -===//
//
// The oracle for fuse-attention and the CPU backend's tiled kernels: every score of a row is
// computed, in double, then softmax and the weighted sum, exactly as docs/IR.md writes them.
//
//   s[i, j] = scale * q[i] . k[j] + mask[i, j]   (-inf for j > i when causal)
//   p[i, :] = softmax(s[i, :])                    (zeros when every s[i, j] is -inf)
//   o[i]    = sum_j p[i, j] v[j]
// and for the gradient, with do the adjoint of o (sum_j p[i, j] dp[i, j] = do[i].o[i]):
//   dp[i, j] = do[i] . v[j],  ds[i, j] = p[i, j] (dp[i, j] - do[i].o[i])
//   dq[i] = scale sum_j ds[i, j] k[j],  dk[j] = scale sum_i ds[i, j] q[i],  dv[j] = sum_i p[i, j]
//   do[i]
//
//===----------------------------------------------------------------------===//
#include "eval/Kernels.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace weft::eval::detail {
namespace {

/// Shapes of one attention op: `batch` leading slices of Tq queries and Tk keys of depth d,
/// values of depth dv; the mask's element strides over [batch dims..., Tq, Tk] (0 where it
/// broadcasts).
struct Dims {
  int64_t batch = 1, Tq = 0, Tk = 0, d = 0, dv = 0;
  Shape batchShape, maskStrides;
};

Expected<Dims> dimsOf(const ir::Op &op, const Array &q, const Array &k, const Array &v,
                      const Array *mask) {
  int64_t r = q.rank();
  bool ok =
      r >= 2 && k.rank() == r && v.rank() == r && k.dtype() == q.dtype() && v.dtype() == q.dtype();
  for (int64_t i = 0; ok && i + 2 < r; ++i)
    ok = k.shape()[i] == q.shape()[i] && v.shape()[i] == q.shape()[i];
  ok = ok && k.shape()[r - 1] == q.shape()[r - 1] && v.shape()[r - 2] == k.shape()[r - 2];
  if (!ok)
    return opError(op, fmt::format("cannot attend with q {}, k {}, v {}", q.typeStr(), k.typeStr(),
                                   v.typeStr()));
  Dims d;
  d.batchShape.assign(q.shape().begin(), q.shape().end() - 2);
  for (int64_t n : d.batchShape)
    d.batch *= n;
  d.Tq = q.shape()[r - 2];
  d.Tk = k.shape()[r - 2];
  d.d = q.shape()[r - 1];
  d.dv = v.shape()[r - 1];
  if (!mask)
    return d;
  Shape scores = d.batchShape;
  scores.push_back(d.Tq);
  scores.push_back(d.Tk);
  ok = mask->rank() == r && mask->dtype() == q.dtype();
  for (int64_t i = 0; ok && i < r; ++i)
    ok = mask->shape()[i] == scores[i] || mask->shape()[i] == 1;
  if (!ok)
    return opError(op, fmt::format("the mask {} does not broadcast to the scores {}",
                                   mask->typeStr(), formatShape(scores)));
  d.maskStrides = stridesOf(mask->shape());
  for (int64_t i = 0; i < r; ++i)
    if (mask->shape()[i] != scores[i])
      d.maskStrides[i] = 0;
  return d;
}

/// The probabilities p[i, j] of batch slice `b` (Tq x Tk, row-major).
std::vector<double> probabilities(const ir::Op &op, const Dims &d, int64_t b, const Array &q,
                                  const Array &k, const Array *mask) {
  int64_t maskBase = 0, rest = b;
  for (size_t a = d.batchShape.size(); a-- > 0;) {
    if (mask)
      maskBase += (rest % d.batchShape[a]) * d.maskStrides[a];
    rest /= d.batchShape[a];
  }
  size_t r = d.batchShape.size();
  double scale = op.scale();
  std::vector<double> p(static_cast<size_t>(d.Tq * d.Tk));
  for (int64_t i = 0; i < d.Tq; ++i) {
    double *row = p.data() + static_cast<size_t>(i * d.Tk); // Tk may be 0
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < d.Tk; ++j) {
      double s = 0;
      for (int64_t c = 0; c < d.d; ++c)
        s += q.getDouble((b * d.Tq + i) * d.d + c) * k.getDouble((b * d.Tk + j) * d.d + c);
      s *= scale;
      if (mask)
        s += mask->getDouble(maskBase + i * d.maskStrides[r] + j * d.maskStrides[r + 1]);
      if (op.causal() && j > i)
        s = -std::numeric_limits<double>::infinity();
      row[j] = s;
      m = std::max(m, s);
    }
    double l = 0;
    for (int64_t j = 0; j < d.Tk; ++j) {
      row[j] = std::isinf(m) && m < 0 ? 0.0 : std::exp(row[j] - m);
      l += row[j];
    }
    for (int64_t j = 0; j < d.Tk; ++j)
      row[j] = l > 0 ? row[j] / l : 0.0;
  }
  return p;
}

Expected<Array> attention(const ir::Op &op, Operands xs) {
  if (xs.size() != 3 && xs.size() != 4)
    return opError(op, "expects q, k, v and an optional mask");
  const Array &q = *xs[0], &k = *xs[1], &v = *xs[2];
  const Array *mask = xs.size() == 4 ? xs[3] : nullptr;
  auto d = dimsOf(op, q, k, v, mask);
  WEFT_TRY(d.status());
  Shape outShape = q.shape();
  outShape.back() = d->dv;
  auto out = makeArray(q.dtype(), outShape);
  WEFT_TRY(out.status());
  for (int64_t b = 0; b < d->batch; ++b) {
    std::vector<double> p = probabilities(op, *d, b, q, k, mask);
    for (int64_t i = 0; i < d->Tq; ++i)
      for (int64_t c = 0; c < d->dv; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < d->Tk; ++j)
          acc += p[static_cast<size_t>(i * d->Tk + j)] * v.getDouble((b * d->Tk + j) * d->dv + c);
        out->setDouble((b * d->Tq + i) * d->dv + c, acc);
      }
  }
  return out;
}

/// dq, dk and dv, each of its operand's shape; zeros for those `wrt` leaves out.
Expected<std::vector<Array>> attentionGrad(const ir::Op &op, Operands xs) {
  if (xs.size() != 5 && xs.size() != 6)
    return opError(op, "expects q, k, v, o, do and an optional mask");
  const Array &q = *xs[0], &k = *xs[1], &v = *xs[2], &o = *xs[3], &dout = *xs[4];
  const Array *mask = xs.size() == 6 ? xs[5] : nullptr;
  auto d = dimsOf(op, q, k, v, mask);
  WEFT_TRY(d.status());
  Shape oShape = q.shape();
  oShape.back() = d->dv;
  for (const Array *a : {&o, &dout})
    if (a->shape() != oShape || a->dtype() != q.dtype())
      return opError(op, fmt::format("o and do must be attention's result {}, got {}",
                                     formatShape(oShape), a->typeStr()));
  std::vector<double> dq(static_cast<size_t>(q.numel())), dk(static_cast<size_t>(k.numel())),
      dv(static_cast<size_t>(v.numel()));
  double scale = op.scale();
  const ir::Attr *wrtAttr = op.findAttr(ir::AttrId::Wrt);
  int64_t wrt = wrtAttr ? std::get<int64_t>(*wrtAttr) : 7;
  if (wrt < 1 || wrt > 7)
    return opError(op, fmt::format("wrt must be a bit set of 1 (dq), 2 (dk), 4 (dv), got {}", wrt));
  bool wantQ = wrt & 1, wantK = wrt & 2, wantV = wrt & 4;
  for (int64_t b = 0; b < d->batch; ++b) {
    std::vector<double> p = probabilities(op, *d, b, q, k, mask);
    auto qAt = [&](int64_t i, int64_t c) { return q.getDouble((b * d->Tq + i) * d->d + c); };
    auto kAt = [&](int64_t j, int64_t c) { return k.getDouble((b * d->Tk + j) * d->d + c); };
    auto vAt = [&](int64_t j, int64_t c) { return v.getDouble((b * d->Tk + j) * d->dv + c); };
    auto oAt = [&](int64_t i, int64_t c) { return o.getDouble((b * d->Tq + i) * d->dv + c); };
    auto doAt = [&](int64_t i, int64_t c) { return dout.getDouble((b * d->Tq + i) * d->dv + c); };
    for (int64_t i = 0; i < d->Tq; ++i) {
      const double *pi = p.data() + static_cast<size_t>(i * d->Tk);
      std::vector<double> dp(static_cast<size_t>(d->Tk));
      // sum_j p[i, j] dp[i, j] = do[i].o[i] when o is attention's result, which it must be.
      double rowSum = 0;
      for (int64_t c = 0; c < d->dv; ++c)
        rowSum += doAt(i, c) * oAt(i, c);
      for (int64_t j = 0; j < d->Tk; ++j)
        for (int64_t c = 0; c < d->dv; ++c)
          dp[static_cast<size_t>(j)] += doAt(i, c) * vAt(j, c);
      for (int64_t j = 0; j < d->Tk; ++j) {
        double ds = pi[j] * (dp[static_cast<size_t>(j)] - rowSum);
        for (int64_t c = 0; c < d->d; ++c) {
          if (wantQ)
            dq[static_cast<size_t>((b * d->Tq + i) * d->d + c)] += scale * ds * kAt(j, c);
          if (wantK)
            dk[static_cast<size_t>((b * d->Tk + j) * d->d + c)] += scale * ds * qAt(i, c);
        }
        for (int64_t c = 0; wantV && c < d->dv; ++c)
          dv[static_cast<size_t>((b * d->Tk + j) * d->dv + c)] += pi[j] * doAt(i, c);
      }
    }
  }
  std::vector<Array> out;
  for (auto [acc, like] : {std::pair{&dq, &q}, std::pair{&dk, &k}, std::pair{&dv, &v}}) {
    auto a = makeArray(q.dtype(), like->shape());
    WEFT_TRY(a.status());
    for (int64_t i = 0; i < a->numel(); ++i)
      a->setDouble(i, (*acc)[static_cast<size_t>(i)]);
    out.push_back(std::move(*a));
  }
  return out;
}

} // namespace

Expected<Array> evalAttention(const ir::Op &op, Operands xs) { return attention(op, xs); }

Expected<std::vector<Array>> evalAttentionGrad(const ir::Op &op, Operands xs) {
  return attentionGrad(op, xs);
}

} // namespace weft::eval::detail
