//===- passes/Simplify.cpp - algebraic simplification ---------------------===//
//
// Local rewrites, each an early-exit function that returns the value the op
// should become (or nullptr). Constants must be splats of exactly the
// identity value and of the op's type. Float x*0 is kept (NaN and Inf times 0
// are NaN). For floats the additive identity is -0.0: x + +0.0 is +0.0 when x
// is -0.0, so only x + -0.0 and x - +0.0 become x. stop_gradient is never
// removed: autodiff needs it.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Walk.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include <cmath>
#include <numeric>

namespace weft::passes {
namespace {

using ir::Op;
using ir::OpKind;
using ir::Value;

/// Whether `v` is a splat constant of `want`; a float zero must also have `want`'s sign.
bool isSplat(const Value *v, double want) {
  std::optional<double> s = splatValue(v);
  if (!s || *s != want)
    return false;
  return !ir::isFloat(v->type().dtype()) || std::signbit(*s) == std::signbit(want);
}

/// The op defining `v` when it is of kind `k`, or nullptr.
Op *definedBy(Value *v, OpKind k) {
  Op *def = v->definingOp();
  return def && def->kind() == k ? def : nullptr;
}

class Simplifier {
public:
  explicit Simplifier(ir::Function &f) : b_(f.body()) {}

  /// The value `op` simplifies to, or nullptr.
  Value *simplify(Op &op) {
    switch (op.kind()) {
    case OpKind::Add:
      return binaryIdentity(op, -0.0, /*commutative=*/true);
    case OpKind::Sub:
      return binaryIdentity(op, 0.0, /*commutative=*/false);
    case OpKind::Mul:
      if (Value *z = integerTimesZero(op))
        return z;
      return binaryIdentity(op, 1.0, /*commutative=*/true);
    case OpKind::Div:
      return binaryIdentity(op, 1.0, /*commutative=*/false);
    case OpKind::Neg:
      return negNeg(op);
    case OpKind::Transpose:
      return transpose(op);
    case OpKind::Reshape:
      return reshape(op);
    case OpKind::Broadcast:
      return broadcast(op);
    case OpKind::Slice:
      return fullSlice(op);
    case OpKind::Concat:
      return op.numOperands() == 1 ? op.operand(0) : nullptr;
    case OpKind::Select:
      return select(op);
    case OpKind::Cast:
      return sameType(op) ? op.operand(0) : nullptr;
    default:
      return nullptr;
    }
  }

private:
  static bool sameType(const Op &op) { return op.operand(0)->type() == op.result()->type(); }

  /// x op c -> x (and c op x -> x when commutative) for the identity splat c.
  static Value *binaryIdentity(Op &op, double identity, bool commutative) {
    Value *a = op.operand(0), *b = op.operand(1);
    if (isSplat(b, identity))
      return a;
    if (commutative && isSplat(a, identity))
      return b;
    return nullptr;
  }

  /// Integer x*0 -> the zero operand (which has the result type).
  static Value *integerTimesZero(Op &op) {
    if (!ir::isInteger(op.result()->type().dtype()))
      return nullptr;
    for (Value *v : op.operands())
      if (isSplat(v, 0.0))
        return v;
    return nullptr;
  }

  static Value *negNeg(Op &op) {
    Op *inner = definedBy(op.operand(0), OpKind::Neg);
    return inner ? inner->operand(0) : nullptr;
  }

  static bool isIdentityPerm(const std::vector<int64_t> &perm) {
    for (size_t i = 0; i < perm.size(); ++i)
      if (perm[i] != static_cast<int64_t>(i))
        return false;
    return true;
  }

  /// transpose(x, identity) -> x; transpose(transpose(x, p1), p2) -> transpose(x, p1[p2[i]]).
  Value *transpose(Op &op) {
    const auto &perm = op.perm();
    if (isIdentityPerm(perm))
      return op.operand(0);
    Op *inner = definedBy(op.operand(0), OpKind::Transpose);
    if (!inner)
      return nullptr;
    const auto &innerPerm = inner->perm();
    std::vector<int64_t> composed;
    for (int64_t p : perm)
      composed.push_back(innerPerm[p]);
    if (isIdentityPerm(composed))
      return inner->operand(0);
    return build(op, OpKind::Transpose, {inner->operand(0)}, {{"perm", composed}}, {});
  }

  /// reshape to the same type -> x; reshape(reshape(x)) -> reshape(x).
  Value *reshape(Op &op) {
    if (sameType(op))
      return op.operand(0);
    Op *inner = definedBy(op.operand(0), OpKind::Reshape);
    if (!inner)
      return nullptr;
    Value *x = inner->operand(0);
    if (x->type() == op.result()->type())
      return x;
    return build(op, OpKind::Reshape, {x}, {}, {op.result()->type()});
  }

  /// Broadcast to the same type -> x (dims are then the identity); of a splat -> a splat.
  Value *broadcast(Op &op) {
    if (sameType(op))
      return op.operand(0);
    const Op *c = constantOp(op.operand(0));
    if (!c || !splatValue(op.operand(0)))
      return nullptr;
    return build(op, OpKind::Constant, {}, {{"value", c->value()}}, {op.result()->type()});
  }

  static Value *fullSlice(Op &op) {
    int64_t axis = op.axis();
    const ir::Dim &d = op.operand(0)->type().dim(static_cast<size_t>(axis));
    bool full = op.start() == 0 && d.isStatic() && op.limit() == d.size();
    return full ? op.operand(0) : nullptr;
  }

  static Value *select(Op &op) {
    std::optional<double> c = splatValue(op.operand(0));
    if (!c)
      return nullptr;
    return *c != 0 ? op.operand(1) : op.operand(2);
  }

  Value *build(Op &at, OpKind kind, std::vector<Value *> operands, ir::Attrs attrs,
               std::vector<ir::Type> declared) {
    b_.setInsertionPointBefore(&at);
    auto v = b_.create1(kind, std::move(operands), std::move(attrs), std::move(declared), at.loc());
    WEFT_CHECK(v.isOk(), "a simplified op always type-checks");
    return *v;
  }

  ir::OpBuilder b_;
};

bool simplifyFunction(ir::Function &f) {
  ValueRemap remap;
  Simplifier s(f);
  ir::walk(f.body(), [&](Op &op) {
    remap.remapOperands(op);
    if (op.numResults() != 1 || ir::hasRegion(op.kind()))
      return;
    if (Value *v = s.simplify(op))
      remap.replaceOp(&op, {v});
  });
  bool changed = remap.changed();
  remap.eraseReplaced();
  return changed;
}

class SimplifyPass final : public FunctionPass {
public:
  std::string_view name() const override { return "simplify"; }
  Expected<bool> runOnFunction(ir::Function &f) override {
    bool changed = false;
    // A rewrite can expose another (reshape(reshape(reshape x))); a few sweeps reach the end.
    for (int sweep = 0; sweep < 8 && simplifyFunction(f); ++sweep)
      changed = true;
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createSimplifyPass() { return std::make_unique<SimplifyPass>(); }

} // namespace weft::passes
