//===- backends/cuda/LowerGrads.h - the fused ops' gradients as steps ------===//
//
// Internal to backends/cuda. attention_grad (LowerAttentionGrad.cpp), lstm_sequence_grad
// (LowerLstmGrad.cpp) and lstm_attention_step (LowerLstmAttentionStep.cpp) each lower to several
// kernels over scratch of their own; Lowering.cpp's Lowerer dispatches to them with what they need
// of it (OpLowering).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "analysis/BufferPlan.h"
#include "backends/cuda/Lowering.h"

#include <functional>
#include <string>
#include <vector>

namespace weft::cuda::detail {

/// What the lowering of an op in a file of its own needs of the function's Lowerer.
struct OpLowering {
  const std::string &function;
  KernelModule &km;
  KernelTarget target;
  std::vector<std::string> &names;
  const analysis::BufferPlan &plan;
  const LoweringOptions &options;
  /// The slot holding a value, or the view it is (a scan's sequence step).
  std::function<int(const ir::Value *)> slot;
  /// A new view reference (past the plan's slots) for a LoopCode's moving view.
  std::function<int()> newView;

  /// A fresh name for a kernel of `op`, with `suffix`.
  std::string kernelName(const ir::Op &op, const std::string &suffix) const;
  /// Adds `name` (a kernel just added to the module) and returns its index.
  size_t addKernel(const std::string &name);
  /// A step of `kind` for `op`, named for errors.
  Step step(const ir::Op &op, Step::Kind kind) const;
  /// A kernel step launching `name` (a kernel just added to the module).
  Step kernelStep(const ir::Op &op, const std::string &name, std::vector<int> slots,
                  LaunchPlan launch);
  /// A loop's copy of `type`'s elements from ref `from` to ref `to` under `mask` (a kernel of
  /// emitLoopCopyKernel).
  Expected<LoopCopy> loopCopy(const ir::Op &op, const std::string &suffix, int from, int to,
                              const ir::Type &type, LoopCopyMask mask);
};

/// The scratch attention_grad and lstm_sequence_grad need, for the buffer plan; none for other
/// ops.
std::vector<ir::Type> gradScratch(const ir::Op &op);

/// attention_grad's scratch: stats[..., Tq, 3] in f64.
std::vector<ir::Type> attentionGradScratch(const ir::Op &op);
/// attention_grad: a stats pass, then dk and dv per key row, then dq per query row.
Expected<std::vector<Step>> lowerAttentionGrad(OpLowering &l, const ir::Op &op);

/// lstm_sequence_grad's scratch: the recomputed forward and the stacked gate gradients.
std::vector<ir::Type> lstmGradScratch(const ir::Op &op);
/// lstm_sequence_grad: the gates recomputed for every step at once, a loop the host runs of one
/// gate-gradient kernel and one matmul per step, then the weight gradients at once.
Expected<std::vector<Step>> lowerLstmSequenceGrad(OpLowering &l, const ir::Op &op);

/// lstm_attention_step's scratch: x wx, h wh, the context and (Bahdanau) the query h2 wq.
std::vector<ir::Type> lstmAttentionStepScratch(const ir::Op &op);
/// lstm_attention_step: the gate matmuls, a cell kernel, the query matmul, the attention and the
/// attention vector (LowerLstmAttentionStep.cpp).
Expected<std::vector<Step>> lowerLstmAttentionStep(OpLowering &l, const ir::Op &op);

} // namespace weft::cuda::detail
