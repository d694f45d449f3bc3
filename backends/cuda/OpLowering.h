//===- backends/cuda/OpLowering.h - what an op's lowering needs of the function's -===//
//
// Internal to backends/cuda. Lowering.cpp's Lowerer walks a function and hands each op to the
// file that lowers its family (LowerOps.h, LowerGrads.h) with an OpLowering: the kernel module,
// the buffer plan, the slots of values and fresh names for kernels.
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

  /// A fresh name for the kernel of `op`.
  std::string kernelName(const ir::Op &op) const;
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

/// The op for run-time errors, which have no location of their own: "'add' (model.cpp:12)".
std::string describeOp(const ir::Op &op);

} // namespace weft::cuda::detail
