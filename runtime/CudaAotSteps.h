//===- runtime/CudaAotSteps.h - running a GPU plan's steps ----------------===//
//
// One interpreter of an AotPlan's steps (runtime/CudaAotPlan.h) for every place that runs one:
// the runtime's loader on a GPU (CudaAot.cpp) and, in tests, the host device. What the steps
// run on is an AotStepTarget; the control flow is here: status and length checks stop the
// call with the op's error, and a while's check ends its unrolled trips early.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/CudaAotPlan.h"

#include <string>

namespace weft::cuda {

/// What a plan's steps run on. Offsets are within the call's one allocation.
class AotStepTarget {
public:
  virtual ~AotStepTarget() = default;
  /// Launch step `s`: its kernel over the buffers at its offsets, with its scalars and grid.
  virtual Status launch(const AotPlan::Step &s) = 0;
  virtual Status copy(uint64_t dst, uint64_t src, uint64_t bytes, const std::string &op) = 0;
  /// Constant step number `index` of the plan: its data to its offset.
  virtual Status constant(size_t index, const AotPlan::Step &s) = 0;
  /// `bytes` at `offset` into `to`, once every earlier step has finished.
  virtual Status read(void *to, uint64_t offset, uint64_t bytes, const std::string &op) = 0;
  /// `bytes` from `from` to `offset`, after every earlier step.
  virtual Status write(uint64_t offset, const void *from, uint64_t bytes,
                       const std::string &op) = 0;
};

/// Runs `plan`'s steps in order on `target`; an error names the op that failed.
Status runAotSteps(const AotPlan &plan, AotStepTarget &target);

/// A scan's lengths must lie in [0, steps]; the error says which one does not, in the
/// interpreter's words.
Status checkScanLengths(const Array &lengths, int64_t steps);

} // namespace weft::cuda
