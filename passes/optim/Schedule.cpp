//===- passes/optim/Schedule.cpp - learning-rate schedules in the graph ---===//
//
// Closed forms of torch.optim.lr_scheduler, with e the number of steps taken:
//   step:        lr * gamma^floor(e / step_size)                       (StepLR)
//   exponential: lr * gamma^e                                          (ExponentialLR)
//   cosine:      eta_min + (lr - eta_min) * (1 + cos(pi e / t_max)) / 2 (CosineAnnealingLR)
//   warm-up:     lr * (s + (1 - s) * e / N) for e < N, then the schedule at e - N
//                (SequentialLR([LinearLR(start_factor = s, total_iters = N), schedule], [N]))
//
//===----------------------------------------------------------------------===//
#include "passes/optim/StepParts.h"

#include <numbers>

namespace weft::optim {
namespace {

ir::Value *scheduled(Scalars &s, ir::Value *e, const OptimOptions &o) {
  ir::Value *lr = s.real(o.lr);
  switch (o.schedule) {
  case Schedule::Constant:
    return lr;
  case Schedule::Step: {
    ir::Value *k = s.op(ir::OpKind::Floor, {s.div(e, s.real(double(o.stepSize)))});
    return s.mul(lr, s.pow(s.real(o.gamma), k));
  }
  case Schedule::Exponential:
    return s.mul(lr, s.pow(s.real(o.gamma), e));
  case Schedule::Cosine: {
    ir::Value *angle = s.div(s.mul(s.real(std::numbers::pi), e), s.real(double(o.tMax)));
    ir::Value *half = s.scale(s.add(s.real(1.0), s.op(ir::OpKind::Cos, {angle})), 0.5);
    return s.add(s.real(o.etaMin), s.mul(s.real(o.lr - o.etaMin), half));
  }
  }
  WEFT_UNREACHABLE("unhandled schedule");
}

} // namespace

ir::Value *learningRate(Scalars &s, ir::Value *e, const OptimOptions &o) {
  if (o.warmup == 0)
    return scheduled(s, e, o);
  ir::Value *n = s.real(double(o.warmup));
  ir::Value *factor = s.add(s.real(o.warmupStart), s.mul(s.real(1.0 - o.warmupStart), s.div(e, n)));
  ir::Value *warm = s.mul(s.real(o.lr), factor);
  ir::Value *after = scheduled(s, s.op(ir::OpKind::Max, {s.sub(e, n), s.real(0.0)}), o);
  return s.select(s.op(ir::OpKind::Lt, {e, n}), warm, after);
}

} // namespace weft::optim
