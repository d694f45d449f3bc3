//===- ir/Fusion.cpp - checking a fusion body's kernel form ---------------===//
#include "ir/Fusion.h"

#include <fmt/format.h>

#include <unordered_set>

namespace weft::ir {
namespace {

Diag fusionError(const Op *op, const std::string &msg) {
  return err(op ? fmt::format("fusion: {} ({})", msg, op->name()) : "fusion: " + msg,
             op ? op->loc() : Loc{});
}

bool isReduction(OpKind k) { return hasTrait(k, trait::Reduction); }

bool isSplat(const Op &op) {
  const Attr *value = op.findAttr(AttrId::Value);
  if (!value)
    return false;
  if (auto *d = std::get_if<std::vector<double>>(value))
    return d->size() == 1;
  if (auto *i = std::get_if<std::vector<int64_t>>(value))
    return i->size() == 1;
  return false;
}

} // namespace

bool isFusible(OpKind k) {
  return isElementwise(k) || k == OpKind::Broadcast || k == OpKind::Constant || isReduction(k);
}

Expected<FusionForm> fusionForm(const Block &body) {
  FusionForm form;
  std::optional<std::vector<Dim>> domain;
  auto inDomain = [&](const Op &op, const Type &t, const char *what) -> Status {
    if (!domain) {
      domain = t.dims();
      return {};
    }
    if (t.dims() == *domain)
      return {};
    return fusionError(&op, fmt::format("{} {} is not over the iteration domain {}", what, t.str(),
                                        Type(*domain, t.dtype()).str()));
  };
  std::unordered_set<const Value *> args;
  for (const Value *a : body.args())
    args.insert(a);
  std::unordered_set<const Value *> defined, reductions;
  std::optional<std::vector<int64_t>> axes;
  const Op *yield = nullptr;
  for (const auto &opPtr : body.ops()) {
    const Op &op = *opPtr;
    if (op.kind() == OpKind::Yield) {
      yield = &op;
      break;
    }
    if (!isFusible(op.kind()))
      return fusionError(&op, "this op cannot be part of a fused kernel");
    if (op.numRegions())
      return fusionError(&op, "a fused kernel has no nested regions");
    for (const Value *v : op.operands()) {
      if (reductions.count(v))
        return fusionError(&op, "a reduction's result may only be yielded");
      if (!args.count(v) && !defined.count(v))
        return fusionError(&op, "uses a value from outside the fusion; pass it as an operand");
    }
    if (op.kind() == OpKind::Broadcast) {
      if (!args.count(op.operand(0)))
        return fusionError(&op, "a broadcast must read a fusion argument");
      WEFT_TRY(inDomain(op, op.result()->type(), "result"));
    } else if (op.kind() == OpKind::Constant) {
      if (!isSplat(op))
        return fusionError(&op, "only splat constants (one value) can be fused");
      WEFT_TRY(inDomain(op, op.result()->type(), "result"));
    } else if (isReduction(op.kind())) {
      WEFT_TRY(inDomain(op, op.operand(0)->type(), "operand"));
      const auto *a = std::get_if<std::vector<int64_t>>(op.findAttr(AttrId::Axes));
      if (!a)
        return fusionError(&op, "a reduction needs its axes");
      if (axes && *axes != *a)
        return fusionError(&op, "all reductions of a fused kernel must remove the same axes");
      axes = *a;
      reductions.insert(op.result());
    } else {
      for (const Value *v : op.operands())
        WEFT_TRY(inDomain(op, v->type(), "operand"));
      WEFT_TRY(inDomain(op, op.result()->type(), "result"));
    }
    defined.insert(op.result());
  }
  if (!yield)
    return fusionError(nullptr, "body must end with yield");
  if (yield->numOperands() == 0)
    return fusionError(yield, "a fused kernel must yield at least one value");
  for (const Value *v : yield->operands())
    if (!defined.count(v))
      return fusionError(yield, "a fused kernel yields only values its ops compute");
  form.domain = domain.value_or(std::vector<Dim>{});
  if (axes) {
    form.reduceAxes = *axes;
    form.hasReduction = true;
  }
  return form;
}

} // namespace weft::ir
