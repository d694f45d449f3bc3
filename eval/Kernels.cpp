//===- eval/Kernels.cpp - helpers and op dispatch -------------------------===//
#include "eval/Kernels.h"

#include "eval/Evaluate.h"
#include "ir/Infer.h"

#include <fmt/format.h>

#include <new>

namespace weft::eval {
namespace detail {

Expected<Array> makeArray(DType dtype, const Shape &shape) {
  // 2^40 bytes is far beyond any host we run on; refusing early turns a corrupt shape into a
  // message rather than an allocation failure.
  constexpr int64_t kMaxBytes = int64_t(1) << 40;
  int64_t bytes = dtypeBytes(dtype);
  for (int64_t d : shape) {
    if (d < 0)
      return err(
          fmt::format("cannot make an array of shape {}: negative size", formatShape(shape)));
    if (d != 0 && bytes > kMaxBytes / d)
      return err(fmt::format("cannot make an array of shape {}: too large", formatShape(shape)));
    bytes *= d;
  }
  try {
    return Array(dtype, shape);
  } catch (const std::bad_alloc &) {
    return err(fmt::format("out of memory allocating an array of shape {}", formatShape(shape)));
  }
}

Shape stridesOf(const Shape &shape) {
  Shape s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    s[i - 1] = s[i] * shape[i];
  return s;
}

Diag opError(const ir::Op &op, const std::string &msg) {
  return err(fmt::format("{}: {}", op.name(), msg));
}

Expected<Shape> declaredShape(const ir::Op &op, const ir::DimBindings &dims) {
  if (op.numResults() != 1)
    return opError(op, "has no declared result type");
  auto shape = op.result()->type().evaluateShape(dims);
  if (!shape)
    return opError(op, shape.diag().message);
  return *shape;
}

Expected<Array> evalOp(const ir::Op &op, Operands xs, const ir::DimBindings &dims) {
  if (ir::hasRegion(op.kind()))
    return opError(op, "has a region; run it as part of a function");
  if (ir::isTerminator(op.kind()))
    return opError(op, "is a terminator and computes no value");
  if (xs.size() != op.numOperands())
    return opError(op, fmt::format("expects {} operands, got {}", op.numOperands(), xs.size()));
  for (size_t i = 0; i < xs.size(); ++i) {
    const ir::Type &t = op.operand(i)->type();
    if (xs[i]->dtype() != t.dtype() || xs[i]->rank() != t.rank())
      return opError(
          op, fmt::format("operand {} is {} but the op expects {}", i, xs[i]->typeStr(), t.str()));
  }
  if (op.numResults() != 1)
    return opError(op, fmt::format("has {} results, expected 1", op.numResults()));
  // The kernels read attributes through the typed accessors, which need them well formed.
  WEFT_TRY(ir::checkAttrs(op.kind(), op.attrs()));
  if (ir::isElementwise(op.kind()))
    return evalElementwise(op, xs, dims);
  if (ir::hasTrait(op.kind(), ir::trait::Shape))
    return evalShapeOp(op, xs, dims);
  if (op.kind() == ir::OpKind::Attention)
    return evalAttention(op, xs);
  return evalMathOp(op, xs, dims);
}

} // namespace detail

Expected<std::vector<Array>> evaluateOp(const ir::Op &op, std::span<const Array> operands,
                                        const ir::DimBindings &dims) {
  std::vector<const Array *> ptrs;
  for (const Array &a : operands)
    ptrs.push_back(&a);
  if (op.kind() == ir::OpKind::LstmSequence) {
    WEFT_TRY(ir::checkAttrs(op.kind(), op.attrs()));
    auto rs = detail::evalLstmSequence(op, ptrs);
    if (!rs)
      return Diag{rs.diag().message, op.loc()};
    return std::move(*rs);
  }
  if (op.kind() == ir::OpKind::LstmSequenceGrad) {
    WEFT_TRY(ir::checkAttrs(op.kind(), op.attrs()));
    auto rs = detail::evalLstmSequenceGrad(op, ptrs);
    if (!rs)
      return Diag{rs.diag().message, op.loc()};
    return std::move(*rs);
  }
  if (op.kind() == ir::OpKind::GruSequenceGrad || op.kind() == ir::OpKind::RnnSequenceGrad) {
    WEFT_TRY(ir::checkAttrs(op.kind(), op.attrs()));
    auto rs = detail::evalGruRnnSequenceGrad(op, ptrs);
    if (!rs)
      return Diag{rs.diag().message, op.loc()};
    return std::move(*rs);
  }
  if (op.kind() == ir::OpKind::AttentionGrad) {
    WEFT_TRY(ir::checkAttrs(op.kind(), op.attrs()));
    auto rs = detail::evalAttentionGrad(op, ptrs);
    if (!rs)
      return Diag{rs.diag().message, op.loc()};
    return std::move(*rs);
  }
  if (op.kind() == ir::OpKind::AdditiveAttention) {
    auto rs = detail::evalAdditiveAttention(op, ptrs);
    if (!rs)
      return Diag{rs.diag().message, op.loc()};
    return std::move(*rs);
  }
  if (op.kind() == ir::OpKind::LstmAttentionStep) {
    WEFT_TRY(ir::checkAttrs(op.kind(), op.attrs()));
    auto rs = detail::evalLstmAttentionStep(op, ptrs);
    if (!rs)
      return Diag{rs.diag().message, op.loc()};
    return std::move(*rs);
  }
  if (op.kind() == ir::OpKind::GruSequence || op.kind() == ir::OpKind::RnnSequence) {
    WEFT_TRY(ir::checkAttrs(op.kind(), op.attrs()));
    auto rs = detail::evalGruRnnSequence(op, ptrs);
    if (!rs)
      return Diag{rs.diag().message, op.loc()};
    return std::move(*rs);
  }
  auto r = detail::evalOp(op, ptrs, dims);
  if (!r)
    return Diag{r.diag().message, op.loc()};
  std::vector<Array> out;
  out.push_back(std::move(*r));
  return out;
}

} // namespace weft::eval
