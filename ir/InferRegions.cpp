//===- ir/InferRegions.cpp - typing rules of the ops with a region ---------===//
//
// scan and while (structured control flow) and fusion: their operand groups, the argument
// types their bodies must have, and their results from what the body yields.
//
//===----------------------------------------------------------------------===//
#include "ir/Fusion.h"
#include "ir/Infer.h"
#include "ir/InferDetail.h"

#include <fmt/format.h>

#include <optional>

namespace weft::ir {
namespace {

using detail::attr;
using detail::opError;
using detail::Types;

Status checkBatchAxis(OpKind k, const Type &t, int64_t axis, const Dim &b, const char *what) {
  if (t.rank() > axis && t.dim(axis) == b)
    return {};
  return opError(k, fmt::format("{} {} must have size {} on axis {} to be masked per example", what,
                                t.str(), b.str(), axis));
}

} // namespace

Expected<ScanOperands> scanOperands(size_t numOperands, const Attrs &attrs) {
  OpKind k = OpKind::Scan;
  auto nc = attr<int64_t>(k, attrs, AttrId::NumCarry);
  auto ns = attr<int64_t>(k, attrs, AttrId::NumSeq);
  WEFT_TRY(nc.status());
  WEFT_TRY(ns.status());
  if (*nc < 0 || *ns < 1)
    return opError(k, "needs at least one sequence (and a non-negative carry count)");
  size_t used = static_cast<size_t>(*nc + *ns);
  if (numOperands != used && numOperands != used + 1)
    return opError(
        k, fmt::format("has {} operands for {} carries and {} sequences", numOperands, *nc, *ns));
  return ScanOperands{static_cast<size_t>(*nc), static_cast<size_t>(*ns), numOperands == used + 1};
}

Expected<std::vector<Type>> regionArgTypes(OpKind kind, std::span<Value *const> ops,
                                           const Attrs &attrs) {
  WEFT_TRY(checkAttrs(kind, attrs));
  Types args;
  if (kind == OpKind::Scan) {
    auto g = scanOperands(ops.size(), attrs);
    WEFT_TRY(g.status());
    for (size_t i = 0; i < g->numCarry; ++i)
      args.push_back(ops[i]->type());
    const Type &first = ops[g->numCarry]->type();
    for (size_t i = g->numCarry; i < g->numCarry + g->numSeq; ++i) {
      const Type &s = ops[i]->type();
      if (s.rank() < 1 || first.rank() < 1 || s.dim(0) != first.dim(0))
        return opError(kind, fmt::format("sequences must share their leading (time) axis: {} "
                                         "vs {}",
                                         first.str(), s.str()));
      args.push_back(Type(std::vector<Dim>(s.dims().begin() + 1, s.dims().end()), s.dtype()));
    }
    if (g->hasLengths) {
      const Type &len = ops.back()->type();
      if (len.rank() != 1 || !isInteger(len.dtype()))
        return opError(kind, fmt::format("lengths must be tensor<B x i32|i64>, got {}", len.str()));
      for (size_t i = 0; i < g->numCarry; ++i)
        WEFT_TRY(checkBatchAxis(kind, ops[i]->type(), 0, len.dim(0), "carry"));
      for (size_t i = g->numCarry; i < g->numCarry + g->numSeq; ++i)
        WEFT_TRY(checkBatchAxis(kind, ops[i]->type(), 1, len.dim(0), "sequence"));
    }
    return args;
  }
  if (kind == OpKind::Fusion) {
    for (const Value *v : ops)
      args.push_back(v->type());
    return args;
  }
  WEFT_CHECK(kind == OpKind::While, "regionArgTypes of an op without a region");
  if (ops.empty())
    return opError(kind, "needs the finished flags operand");
  const Type &fin = ops[0]->type();
  if (fin.rank() != 1 || fin.dtype() != DType::I1)
    return opError(kind, fmt::format("finished must be tensor<B x i1>, got {}", fin.str()));
  auto maxTrips = attr<int64_t>(kind, attrs, AttrId::MaxTrips);
  WEFT_TRY(maxTrips.status());
  if (*maxTrips < 0)
    return opError(kind, "max_trips must not be negative");
  for (size_t i = 1; i < ops.size(); ++i) {
    WEFT_TRY(checkBatchAxis(kind, ops[i]->type(), 0, fin.dim(0), "carry"));
    args.push_back(ops[i]->type());
  }
  return args;
}

namespace detail {

Expected<Types> inferScan(std::span<Value *const> ops, const Attrs &attrs, const Block *body) {
  OpKind k = OpKind::Scan;
  auto groups = scanOperands(ops.size(), attrs);
  WEFT_TRY(groups.status());
  auto argTypes = regionArgTypes(k, ops, attrs);
  WEFT_TRY(argTypes.status());
  if (!body)
    return opError(k, "has no body");
  const Op *yield = body->back();
  if (!yield || yield->kind() != OpKind::Yield)
    return opError(k, "body must end with yield");
  size_t nc = groups->numCarry;
  if (yield->numOperands() < nc)
    return opError(
        k, fmt::format("body yields {} values but there are {} carries", yield->numOperands(), nc));
  Types results;
  for (size_t i = 0; i < nc; ++i) {
    if (yield->operand(i)->type() != ops[i]->type())
      return opError(k, fmt::format("carry {} enters as {} but the body yields {}", i,
                                    ops[i]->type().str(), yield->operand(i)->type().str()));
    results.push_back(ops[i]->type());
  }
  const Dim &steps = ops[nc]->type().dim(0);
  std::optional<Dim> batch;
  if (groups->hasLengths)
    batch = ops.back()->type().dim(0);
  for (size_t i = nc; i < yield->numOperands(); ++i) {
    const Type &e = yield->operand(i)->type();
    if (batch)
      WEFT_TRY(checkBatchAxis(k, e, 0, *batch, "emit"));
    results.push_back(e.stacked(steps));
  }
  return results;
}

Expected<Types> inferWhile(std::span<Value *const> ops, const Attrs &attrs, const Block *body) {
  OpKind k = OpKind::While;
  auto argTypes = regionArgTypes(k, ops, attrs);
  WEFT_TRY(argTypes.status());
  int64_t maxTrips = *attr<int64_t>(k, attrs, AttrId::MaxTrips);
  if (!body)
    return opError(k, "has no body");
  const Op *yield = body->back();
  if (!yield || yield->kind() != OpKind::Yield)
    return opError(k, "body must end with yield");
  size_t nc = ops.size() - 1;
  if (yield->numOperands() < nc + 1)
    return opError(k, fmt::format("body yields {} values but needs the done flags and {} carries",
                                  yield->numOperands(), nc));
  const Type &fin = ops[0]->type();
  if (yield->operand(0)->type() != fin)
    return opError(k, fmt::format("body yields done flags of type {} but finished is {}",
                                  yield->operand(0)->type().str(), fin.str()));
  Types results{fin};
  for (size_t i = 0; i < nc; ++i) {
    if (yield->operand(i + 1)->type() != ops[i + 1]->type())
      return opError(k, fmt::format("carry {} enters as {} but the body yields {}", i,
                                    ops[i + 1]->type().str(), yield->operand(i + 1)->type().str()));
    results.push_back(ops[i + 1]->type());
  }
  for (size_t i = nc + 1; i < yield->numOperands(); ++i) {
    const Type &e = yield->operand(i)->type();
    WEFT_TRY(checkBatchAxis(k, e, 0, fin.dim(0), "emit"));
    results.push_back(e.stacked(Dim(maxTrips)));
  }
  results.push_back(Type({}, DType::I64));
  return results;
}

Expected<Types> inferFusion(std::span<Value *const> ops, const Block *body) {
  if (!body)
    return opError(OpKind::Fusion, "has no body");
  auto form = fusionForm(*body);
  WEFT_TRY(form.status());
  Types results;
  for (const Value *v : body->back()->operands())
    results.push_back(v->type());
  return results;
}
} // namespace detail
} // namespace weft::ir
