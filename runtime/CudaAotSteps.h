//===- runtime/CudaAotSteps.h - running a GPU plan's steps ----------------===//
//
// One interpreter of an AotPlan's steps (runtime/CudaAotPlan.h) for every place that runs one:
// the runtime's loader on a GPU (CudaAot.cpp) and, in tests, the host device. What the steps
// run on is an AotStepTarget; the control flow is here: status and length checks stop the
// call with the op's error, a while's check ends its unrolled trips early, and all_reduce is
// read back, reduced by runtime/Collective.h (as the CPU backend's code reduces) and written.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/CudaAotPlan.h"

#include <cstdint>
#include <string>
#include <vector>

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

/// The interpreter's words for integer division by zero at `element` of a value of type
/// `value` ("i64[300]"), which the JIT's check and the plan's give alike.
std::string divisionByZeroMessage(int64_t element, const std::string &value);

/// The flat position in the indices (of `count` elements) of the index whose fault a gather's
/// or scatter_add's kernel wrote to its status word as `word`, an element of the work [P, I, Q]
/// over the table's axis, Q being `inner` elements.
int64_t faultingIndexPosition(int64_t word, int64_t inner, int64_t count);

/// The interpreter's words for a gather's or scatter_add's `index`, at flat position `flat` of
/// indices of dims `indices`, outside [0, bound) on axis `axis` of a table of type `table`
/// ("f32[1, 7, 3]"), which the JIT's check and the plan's give alike.
std::string indexOutOfRangeMessage(int64_t index, int64_t flat, const std::vector<int64_t> &indices,
                                   int64_t bound, int64_t axis, const std::string &table);

/// Replaces `data` by its sum (or mean) over the processes of `group` through the collective
/// (runtime/Collective.h); the error is the collective's, without its leading "all_reduce: ",
/// for the caller to name the op.
Status allReduceOnHost(Array &data, int64_t group, bool mean);

} // namespace weft::cuda
