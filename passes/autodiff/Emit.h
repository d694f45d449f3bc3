//===- passes/autodiff/Emit.h - terse op building for VJP rules -----------===//
//
// VJP rules build ops whose types follow from the forward op's, so a type
// error here is a bug in a rule, not in the user's program: it aborts with the
// message instead of travelling as a value.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Builder.h"

#include <string>

namespace weft::autodiff {

class Emit {
public:
  Emit(ir::OpBuilder &b, Loc loc) : b_(b), loc_(std::move(loc)) {}

  ir::Value *op(ir::OpKind k, std::vector<ir::Value *> xs, ir::Attrs attrs = {},
                std::vector<ir::Type> declared = {}) {
    auto r = b_.create1(k, std::move(xs), std::move(attrs), std::move(declared), loc_);
    if (!r)
      unreachable(("autodiff rule built an ill-typed op: " + r.diag().message).c_str(), __FILE__,
                  __LINE__);
    return *r;
  }
  /// An op with several results, such as attention_grad's dq, dk and dv.
  ir::Op *multi(ir::OpKind k, std::vector<ir::Value *> xs, ir::Attrs attrs = {}) {
    auto r = b_.create(k, std::move(xs), std::move(attrs), {}, loc_);
    if (!r)
      unreachable(("autodiff rule built an ill-typed op: " + r.diag().message).c_str(), __FILE__,
                  __LINE__);
    return *r;
  }
  ir::Value *splatLike(ir::Value *v, double c) { return b_.splat(v->type(), c, loc_); }
  ir::Value *zerosLike(ir::Value *v) { return splatLike(v, 0.0); }
  ir::Value *add(ir::Value *a, ir::Value *b) { return op(ir::OpKind::Add, {a, b}); }
  ir::Value *sub(ir::Value *a, ir::Value *b) { return op(ir::OpKind::Sub, {a, b}); }
  ir::Value *mul(ir::Value *a, ir::Value *b) { return op(ir::OpKind::Mul, {a, b}); }
  ir::Value *div(ir::Value *a, ir::Value *b) { return op(ir::OpKind::Div, {a, b}); }
  ir::Value *neg(ir::Value *a) { return op(ir::OpKind::Neg, {a}); }
  ir::Value *scale(ir::Value *a, double c) { return mul(a, splatLike(a, c)); }
  ir::Value *select(ir::Value *c, ir::Value *a, ir::Value *b) {
    return op(ir::OpKind::Select, {c, a, b});
  }
  ir::Value *cast(ir::Value *a, ir::DType t) {
    return op(ir::OpKind::Cast, {a}, {}, {a->type().withDType(t)});
  }
  ir::Value *reshape(ir::Value *a, const ir::Type &t) {
    return a->type() == t ? a : op(ir::OpKind::Reshape, {a}, {}, {t});
  }
  ir::Value *broadcast(ir::Value *a, std::vector<int64_t> dims, const ir::Type &t) {
    return op(ir::OpKind::Broadcast, {a}, {{"dims", std::move(dims)}}, {t});
  }
  ir::Value *reduceSum(ir::Value *a, std::vector<int64_t> axes) {
    return axes.empty() ? a : op(ir::OpKind::ReduceSum, {a}, {{"axes", std::move(axes)}});
  }
  ir::Value *transpose(ir::Value *a, std::vector<int64_t> perm) {
    return op(ir::OpKind::Transpose, {a}, {{"perm", std::move(perm)}});
  }
  ir::Value *slice(ir::Value *a, int64_t axis, int64_t start, int64_t limit) {
    return op(ir::OpKind::Slice, {a}, {{"axis", axis}, {"start", start}, {"limit", limit}});
  }
  const Loc &loc() const { return loc_; }
  ir::OpBuilder &builder() { return b_; }

private:
  ir::OpBuilder &b_;
  Loc loc_;
};

} // namespace weft::autodiff
