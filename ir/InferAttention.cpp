//===- ir/InferAttention.cpp - typing rules of the attention ops -----------===//
//
// attention, attention_grad and additive_attention.
//
//===----------------------------------------------------------------------===//
#include "ir/InferDetail.h"

#include <fmt/format.h>

namespace weft::ir::detail {
namespace {

/// The scores' shape [..., Tq, Tk] of attention or attention_grad with operands q, k, v
/// (, mask), after checking them: one float dtype, rank >= 2, equal batch dims, q and k of one
/// depth, k and v of one length, a mask of the scores' rank whose dims are 1 or the scores'.
Status checkAttentionOperands(OpKind k, const Type &q, const Type &kt, const Type &v,
                              const Type *mask) {
  WEFT_TRY(checkDType(k, q, "q"));
  for (const Type *t : {&kt, &v, mask})
    if (t && t->dtype() != q.dtype())
      return opError(k, fmt::format("dtypes differ: q is {} but {} is {}", dtypeName(q.dtype()),
                                    t == &kt  ? "k"
                                    : t == &v ? "v"
                                              : "the mask",
                                    dtypeName(t->dtype())));
  int64_t r = q.rank();
  if (r < 2 || kt.rank() != r || v.rank() != r)
    return opError(k, fmt::format("q, k and v must have one rank >= 2, got {}, {} and {}",
                                  q.shapeStr(), kt.shapeStr(), v.shapeStr()));
  for (int64_t i = 0; i + 2 < r; ++i)
    if (kt.dim(i) != q.dim(i) || v.dim(i) != q.dim(i))
      return opError(k, fmt::format("batch dims differ: q {}, k {}, v {}", q.shapeStr(),
                                    kt.shapeStr(), v.shapeStr()));
  if (kt.dim(r - 1) != q.dim(r - 1))
    return opError(
        k, fmt::format("q and k must have one depth, got {} and {}", q.shapeStr(), kt.shapeStr()));
  if (v.dim(r - 2) != kt.dim(r - 2))
    return opError(
        k, fmt::format("k and v must have one length, got {} and {}", kt.shapeStr(), v.shapeStr()));
  if (!mask)
    return {};
  std::vector<Dim> scores = q.dims();
  scores[r - 1] = kt.dim(r - 2);
  bool ok = mask->rank() == r;
  for (int64_t i = 0; ok && i < r; ++i)
    ok = mask->dim(i) == scores[i] || mask->dim(i) == Dim(1);
  if (!ok)
    return opError(k, fmt::format("the mask {} does not broadcast to the scores {}",
                                  mask->shapeStr(), Type(scores, q.dtype()).shapeStr()));
  return {};
}

} // namespace

/// additive_attention %qp[B,A], %kp[B,S,A], %v[A], %values[B,S,D] (, %mask[B,S]).
Expected<Types> inferAdditiveAttention(std::span<Value *const> ops) {
  OpKind k = OpKind::AdditiveAttention;
  if (ops.size() != 4 && ops.size() != 5)
    return opError(
        k, fmt::format("expects 4 or 5 operands (qp, kp, v, values, mask), got {}", ops.size()));
  const Type &qp = ops[0]->type(), &kp = ops[1]->type(), &values = ops[3]->type();
  WEFT_TRY(checkDType(k, qp, "qp"));
  for (size_t i = 1; i < ops.size(); ++i)
    if (ops[i]->type().dtype() != qp.dtype())
      return opError(k, fmt::format("operand {} is {} but qp is {}", i, ops[i]->type().str(),
                                    dtypeName(qp.dtype())));
  if (qp.rank() != 2 || kp.rank() != 3 || values.rank() != 3)
    return opError(k, fmt::format("qp must be [B, A], kp [B, S, A] and values [B, S, D], got "
                                  "{}, {} and {}",
                                  qp.shapeStr(), kp.shapeStr(), values.shapeStr()));
  const Dim &batch = qp.dim(0), &units = qp.dim(1), &len = kp.dim(1);
  if (kp.dim(0) != batch || kp.dim(2) != units)
    return opError(k, fmt::format("kp must be [{}, S, {}] for qp {}, got {}", batch.str(),
                                  units.str(), qp.shapeStr(), kp.shapeStr()));
  if (ops[2]->type() != Type({units}, qp.dtype()))
    return opError(k, fmt::format("v must be [{}] for qp {}, got {}", units.str(), qp.shapeStr(),
                                  ops[2]->type().shapeStr()));
  if (values.dim(0) != batch || values.dim(1) != len)
    return opError(k, fmt::format("values must be [{}, {}, D] for kp {}, got {}", batch.str(),
                                  len.str(), kp.shapeStr(), values.shapeStr()));
  Type weights({batch, len}, qp.dtype());
  if (ops.size() == 5 && ops[4]->type() != weights)
    return opError(k, fmt::format("the mask must be {} (the scores), got {}", weights.shapeStr(),
                                  ops[4]->type().shapeStr()));
  return Types{Type({batch, values.dim(2)}, qp.dtype()), weights};
}

Expected<Types> inferAttention(std::span<Value *const> ops) {
  OpKind k = OpKind::Attention;
  if (ops.size() != 3 && ops.size() != 4)
    return opError(k, fmt::format("expects 3 or 4 operands (q, k, v, mask), got {}", ops.size()));
  const Type &q = ops[0]->type(), &v = ops[2]->type();
  WEFT_TRY(
      checkAttentionOperands(k, q, ops[1]->type(), v, ops.size() == 4 ? &ops[3]->type() : nullptr));
  std::vector<Dim> dims = q.dims();
  dims.back() = v.dims().back();
  return one(Type(dims, q.dtype()));
}

Expected<Types> inferAttentionGrad(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::AttentionGrad;
  if (ops.size() != 5 && ops.size() != 6)
    return opError(
        k, fmt::format("expects 5 or 6 operands (q, k, v, o, do, mask), got {}", ops.size()));
  const Type &q = ops[0]->type(), &v = ops[2]->type();
  WEFT_TRY(
      checkAttentionOperands(k, q, ops[1]->type(), v, ops.size() == 6 ? &ops[5]->type() : nullptr));
  std::vector<Dim> dims = q.dims();
  dims.back() = v.dims().back();
  Type o(dims, q.dtype());
  for (size_t i : {3, 4})
    if (ops[i]->type() != o)
      return opError(k, fmt::format("{} must be {} (attention's result), got {}",
                                    i == 3 ? "o" : "do", o.str(), ops[i]->type().str()));
  if (attrs.count(attrKey(AttrId::Wrt))) {
    auto wrt = attr<int64_t>(k, attrs, AttrId::Wrt);
    WEFT_TRY(wrt.status());
    if (*wrt < 1 || *wrt > 7)
      return opError(k,
                     fmt::format("wrt must be a bit set of 1 (dq), 2 (dk), 4 (dv), got {}", *wrt));
  }
  return Types{q, ops[1]->type(), v}; // dq, dk, dv
}
} // namespace weft::ir::detail
