//===- passes/optim/Clip.cpp - gradient clipping by global norm -----------===//
#include "passes/optim/StepParts.h"

namespace weft::optim {

void clipByGlobalNorm(Scalars &s, std::vector<ir::Value *> &grads, double maxNorm) {
  // As clip_grad_norm_: each tensor's 2-norm in its dtype, then the 2-norm of those (here in
  // f64), then every gradient times the clamped coefficient, even when it is 1.
  ir::Value *sumSquares = s.real(0.0);
  for (ir::Value *g : grads) {
    ir::Value *norm = s.sqrt(s.sumAll(s.mul(g, g)));
    if (norm->type().dtype() != ir::DType::F64)
      norm = s.cast(norm, ir::DType::F64);
    sumSquares = s.add(sumSquares, s.mul(norm, norm));
  }
  ir::Value *total = s.sqrt(sumSquares);
  ir::Value *coef = s.div(s.real(maxNorm), s.add(total, s.real(1e-6)));
  ir::Value *clamped = s.op(ir::OpKind::Min, {coef, s.real(1.0)});
  for (ir::Value *&g : grads)
    g = s.mul(g, s.like(clamped, g));
}

} // namespace weft::optim
