//===- passes/optim/Scalars.h - scalar and per-parameter arithmetic -------===//
//
// The learning rate and the bias corrections are f64 scalars computed in the
// graph from %step (torch computes them as Python floats); `like` casts such a
// scalar to a parameter's dtype and broadcasts it to its shape.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/autodiff/Emit.h"

namespace weft::optim {

class Scalars : public autodiff::Emit {
public:
  using Emit::Emit;

  /// An f64 scalar constant.
  ir::Value *real(double v) { return builder().splat(ir::Type({}, ir::DType::F64), v, loc()); }
  /// The scalar `s` (any dtype) as a tensor of p's type.
  ir::Value *like(ir::Value *s, ir::Value *p) {
    const ir::Type &t = p->type();
    if (s->type().dtype() != t.dtype())
      s = cast(s, t.dtype());
    return t.rank() == 0 ? s : broadcast(s, {}, t);
  }
  /// The i1 scalar `c` broadcast to p's shape, for a select.
  ir::Value *condLike(ir::Value *c, ir::Value *p) {
    const ir::Type &t = p->type();
    return t.rank() == 0 ? c : broadcast(c, {}, t.withDType(ir::DType::I1));
  }
  /// The constant c as a tensor of p's type.
  ir::Value *constLike(ir::Value *p, double c) { return splatLike(p, c); }
  ir::Value *sqrt(ir::Value *a) { return op(ir::OpKind::Sqrt, {a}); }
  ir::Value *pow(ir::Value *a, ir::Value *b) { return op(ir::OpKind::Pow, {a, b}); }
  /// The sum of every element of `a`, as a scalar.
  ir::Value *sumAll(ir::Value *a) {
    std::vector<int64_t> axes;
    for (int64_t i = 0; i < a->type().rank(); ++i)
      axes.push_back(i);
    return reduceSum(a, axes);
  }
};

} // namespace weft::optim
