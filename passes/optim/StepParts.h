//===- passes/optim/StepParts.h - the pieces buildTrainStep assembles -----===//
#pragma once

#include "passes/optim/Optimizer.h"
#include "passes/optim/Scalars.h"

namespace weft::optim {

/// The learning rate at step `e` (an f64 scalar counting the steps taken before this one),
/// as torch's schedulers give it when scheduler.step() follows each optimizer.step().
ir::Value *learningRate(Scalars &s, ir::Value *e, const OptimOptions &o);

/// torch.nn.utils.clip_grad_norm_(max_norm = o.clipNorm): every gradient times
/// min(1, max_norm / (total_norm + 1e-6)), total_norm the 2-norm of the per-tensor 2-norms.
void clipByGlobalNorm(Scalars &s, std::vector<ir::Value *> &grads, double maxNorm);

/// What one parameter's update reads and gives.
struct ParamUpdate {
  ir::Value *param, *grad;
  std::vector<ir::Value *> state; ///< in stateSlots order
};

/// Per-step scalars shared by every parameter's update (f64 scalars; `first` is i1).
struct StepScalars {
  ir::Value *lr;    ///< the scheduled learning rate
  ir::Value *t;     ///< the 1-based number of this step (torch's state["step"] after += 1)
  ir::Value *first; ///< whether this is the first step (momentum buffers start from the grad)
};

/// The rule's update of one parameter: returns the new parameter, then the new state.
std::vector<ir::Value *> applyRule(Scalars &s, const ParamUpdate &u, const StepScalars &k,
                                   const OptimOptions &o);

} // namespace weft::optim
