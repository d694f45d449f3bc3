//===- passes/FoldConstants.cpp - constant folding ------------------------===//
//
// An op whose operands are all `constant` is replaced by the constant it
// computes. The reference interpreter's kernels (eval/Evaluate.h) do the
// arithmetic, so folding agrees with execution by construction. Splats stay
// splats whatever their shape: an elementwise op on splats is evaluated once
// on scalars, and a shape op on a splat only changes the type. Other ops fold
// when every type is static and the result has at most kMaxFoldedElements
// elements. An op the kernels reject (integer division by zero, say) is left
// for run time to report.
//
//===----------------------------------------------------------------------===//
#include "eval/Evaluate.h"
#include "ir/Builder.h"
#include "ir/Walk.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include <algorithm>
#include <cstring>

namespace weft::passes {
namespace {

using ir::Op;
using ir::OpKind;
using ir::Type;
using ir::Value;

/// A rank-0 array holding the value of a splat constant.
Array scalarOf(const Op &constant) {
  DType dt = constant.result()->type().dtype();
  Array a(dt, {});
  if (auto *fs = std::get_if<std::vector<double>>(&constant.value()))
    a.setDouble(0, (*fs)[0]);
  else
    a.setInt(0, std::get<std::vector<int64_t>>(constant.value())[0]);
  return a;
}

bool isSplatConstant(const Value *v) {
  const Op *c = constantOp(v);
  if (!c)
    return false;
  auto *fs = std::get_if<std::vector<double>>(&c->value());
  auto *is = std::get_if<std::vector<int64_t>>(&c->value());
  return (fs && fs->size() == 1) || (is && is->size() == 1);
}

bool sameBits(const ir::Attr &a, const ir::Attr &b) {
  if (auto *fa = std::get_if<std::vector<double>>(&a)) {
    auto *fb = std::get_if<std::vector<double>>(&b);
    return fb && fa->size() == fb->size() &&
           std::memcmp(fa->data(), fb->data(), fa->size() * sizeof(double)) == 0;
  }
  return a == b;
}

/// Shape ops that move elements without changing them: on a splat they give the same splat.
bool preservesSplat(OpKind k) {
  return k == OpKind::Broadcast || k == OpKind::Reshape || k == OpKind::Transpose ||
         k == OpKind::Slice || k == OpKind::Concat;
}

/// The `value` attribute of the folded result of `op`, or nullopt when it does not fold.
std::optional<ir::Attr> fold(const Op &op) {
  const Type &resultType = op.result()->type();
  bool allSplat = std::all_of(op.operands().begin(), op.operands().end(), isSplatConstant);
  if (allSplat && preservesSplat(op.kind())) {
    const ir::Attr &first = constantOp(op.operand(0))->value();
    for (const Value *v : op.operands())
      if (!sameBits(constantOp(v)->value(), first))
        return std::nullopt;
    return first;
  }
  if (allSplat && ir::isElementwise(op.kind())) {
    // Evaluate once on rank-0 stand-ins for the operands.
    ir::Function scratch("fold");
    std::vector<Value *> params;
    std::vector<Array> args;
    for (const Value *v : op.operands()) {
      params.push_back(scratch.addParam(Type({}, v->type().dtype()), ""));
      args.push_back(scalarOf(*constantOp(v)));
    }
    std::vector<Type> declared;
    if (ir::hasDeclaredResultType(op.kind()))
      declared.push_back(Type({}, resultType.dtype()));
    ir::OpBuilder b(scratch.body());
    auto scalarOp = b.create(op.kind(), params, op.attrs(), declared);
    if (!scalarOp)
      return std::nullopt;
    auto out = eval::evaluateOp(**scalarOp, args);
    if (!out)
      return std::nullopt;
    return valueAttrOf((*out)[0]);
  }
  if (!resultType.isStatic() || resultType.numElements().size() > kMaxFoldedElements)
    return std::nullopt;
  std::vector<Array> args;
  for (const Value *v : op.operands()) {
    if (!v->type().isStatic())
      return std::nullopt;
    args.push_back(constantToArray(*constantOp(v)));
  }
  auto out = eval::evaluateOp(op, args);
  if (!out)
    return std::nullopt;
  return valueAttrOf((*out)[0]);
}

bool isCandidate(const Op &op) {
  if (ir::hasRegion(op.kind()) || !ir::isPure(op.kind()) || op.kind() == OpKind::Constant ||
      op.kind() == OpKind::StopGradient || op.numResults() != 1 || op.numOperands() == 0)
    return false;
  return std::all_of(op.operands().begin(), op.operands().end(),
                     [](const Value *v) { return constantOp(v) != nullptr; });
}

bool foldFunction(ir::Function &f) {
  ValueRemap remap;
  ir::OpBuilder b(f.body());
  ir::walk(f.body(), [&](Op &op) {
    remap.remapOperands(op);
    if (!isCandidate(op))
      return;
    std::optional<ir::Attr> value = fold(op);
    if (!value)
      return;
    b.setInsertionPointBefore(&op);
    auto c = b.create1(OpKind::Constant, {}, {{"value", std::move(*value)}}, {op.result()->type()},
                       op.loc());
    WEFT_CHECK(c.isOk(), "a folded constant always type-checks");
    remap.replaceOp(&op, {*c});
  });
  bool changed = remap.changed();
  remap.eraseReplaced();
  return changed;
}

class FoldConstantsPass final : public FunctionPass {
public:
  std::string_view name() const override { return "fold-constants"; }
  Expected<bool> runOnFunction(ir::Function &f) override { return foldFunction(f); }
};

} // namespace

std::unique_ptr<Pass> createFoldConstantsPass() { return std::make_unique<FoldConstantsPass>(); }

} // namespace weft::passes
