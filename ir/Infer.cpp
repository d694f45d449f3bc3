//===- ir/Infer.cpp - the typing rules' dispatch and shared checks ---------===//
//
// inferResultTypes checks what every op has in common (attributes, arity, a declared result
// type) and hands the op to its family's rule: InferPrimitives.cpp (elementwise, shape ops,
// gather/scatter, reductions, matmul, producers), InferAttention.cpp, InferLstm.cpp,
// InferGruRnn.cpp and InferRegions.cpp (scan, while, fusion). The checks they share are here.
//
//===----------------------------------------------------------------------===//
#include "ir/Infer.h"

#include "ir/InferDetail.h"

#include <fmt/format.h>

namespace weft::ir {
namespace detail {

Diag opError(OpKind k, const std::string &msg) {
  return err(fmt::format("{}: {}", opName(k), msg));
}

} // namespace detail
namespace {

using detail::opError;
using detail::Types;

bool dtypeAllowed(OperandDTypes allowed, DType t) {
  switch (allowed) {
  case OperandDTypes::Float:
    return isFloat(t);
  case OperandDTypes::Numeric:
    return t != DType::I1;
  case OperandDTypes::Bool:
    return t == DType::I1;
  case OperandDTypes::Any:
    return true;
  }
  WEFT_UNREACHABLE("unhandled OperandDTypes");
}

const char *allowedStr(OperandDTypes allowed) {
  switch (allowed) {
  case OperandDTypes::Float:
    return "a float dtype (f32, f64)";
  case OperandDTypes::Numeric:
    return "a numeric dtype (f32, f64, i32, i64)";
  case OperandDTypes::Bool:
    return "i1";
  case OperandDTypes::Any:
    return "any dtype";
  }
  WEFT_UNREACHABLE("unhandled OperandDTypes");
}

} // namespace

namespace detail {

Status checkDType(OpKind k, const Type &t, const char *what) {
  if (dtypeAllowed(opOperandDTypes(k), t.dtype()))
    return {};
  return opError(k, fmt::format("{} has dtype {} but must have {}", what, dtypeName(t.dtype()),
                                allowedStr(opOperandDTypes(k))));
}

bool flag(const Attrs &attrs, AttrId id) {
  auto it = attrs.find(attrKey(id));
  if (it == attrs.end())
    return false;
  const int64_t *v = std::get_if<int64_t>(&it->second);
  return v && *v != 0;
}

Status checkAxis(OpKind k, int64_t axis, int64_t rank, const char *what) {
  if (axis >= 0 && axis < rank)
    return {};
  return opError(k, fmt::format("{} {} is out of range for rank {}", what, axis, rank));
}

Status checkIncreasingAxes(OpKind k, const std::vector<int64_t> &axes, int64_t rank,
                           const char *what) {
  for (size_t i = 0; i < axes.size(); ++i) {
    WEFT_TRY(checkAxis(k, axes[i], rank, what));
    if (i && axes[i] <= axes[i - 1])
      return opError(k, fmt::format("{} must be strictly increasing", what));
  }
  return {};
}

} // namespace detail

namespace {

Status checkArity(OpKind k, size_t n, size_t want) {
  if (n == want)
    return {};
  return opError(k, fmt::format("expects {} operand{}, got {}", want, want == 1 ? "" : "s", n));
}

} // namespace

Expected<std::vector<Type>> inferResultTypes(OpKind k, std::span<Value *const> ops,
                                             const Attrs &attrs, std::span<const Type> declared,
                                             const Block *region) {
  WEFT_TRY(checkAttrs(k, attrs));
  if (auto arity = opArity(k))
    WEFT_TRY(checkArity(k, ops.size(), *arity));
  if (hasDeclaredResultType(k) && declared.size() != 1)
    return opError(k, "needs exactly one declared result type");
  switch (opCategory(k)) {
  case OpCategory::Unary:
  case OpCategory::Binary:
  case OpCategory::Compare:
  case OpCategory::Logical:
    return detail::inferElementwise(k, ops);
  case OpCategory::Reduce:
    return detail::inferReduce(k, ops, attrs);
  default:
    break;
  }
  switch (k) {
  case OpKind::Select:
    return detail::inferSelect(ops);
  case OpKind::Broadcast:
    return detail::inferBroadcast(ops, attrs, declared[0]);
  case OpKind::Reshape:
    return detail::inferReshape(ops, declared[0]);
  case OpKind::Transpose:
    return detail::inferTranspose(ops, attrs);
  case OpKind::Slice:
    return detail::inferSlice(ops, attrs);
  case OpKind::Concat:
    return detail::inferConcat(ops, attrs);
  case OpKind::Pad:
    return detail::inferPad(ops, attrs);
  case OpKind::Gather:
    return detail::inferGather(ops, attrs);
  case OpKind::ScatterAdd:
    return detail::inferScatterAdd(ops, attrs);
  case OpKind::Argmax:
    return detail::inferArgmax(ops, attrs);
  case OpKind::Matmul:
    return detail::inferMatmul(ops);
  case OpKind::Attention:
    return detail::inferAttention(ops);
  case OpKind::AttentionGrad:
    return detail::inferAttentionGrad(ops, attrs);
  case OpKind::AdditiveAttention:
    return detail::inferAdditiveAttention(ops);
  case OpKind::Constant:
    return detail::inferConstant(ops, attrs, declared[0]);
  case OpKind::Iota:
    return detail::inferIota(ops, attrs, declared[0]);
  case OpKind::Cast:
    return detail::inferCast(ops, declared[0]);
  case OpKind::RandomUniform:
  case OpKind::RandomNormal:
    return detail::inferRandom(k, ops, declared[0]);
  case OpKind::AllReduce:
    return detail::inferAllReduce(ops, attrs);
  case OpKind::Scan:
    return detail::inferScan(ops, attrs, region);
  case OpKind::While:
    return detail::inferWhile(ops, attrs, region);
  case OpKind::Fusion:
    return detail::inferFusion(ops, region);
  case OpKind::LstmSequence:
    return detail::inferLstmSequence(ops, attrs);
  case OpKind::LstmSequenceGrad:
    return detail::inferLstmSequenceGrad(ops, attrs);
  case OpKind::LstmAttentionStep:
    return detail::inferLstmAttentionStep(ops, attrs);
  case OpKind::GruSequence:
  case OpKind::RnnSequence:
    return detail::inferGatedSequence(k, ops, attrs);
  case OpKind::GruSequenceGrad:
  case OpKind::RnnSequenceGrad:
    return detail::inferGatedSequenceGrad(k, ops, attrs);
  case OpKind::Yield:
  case OpKind::Return:
    return Types{};
  default:
    WEFT_UNREACHABLE("op kind without a typing rule");
  }
}

} // namespace weft::ir
