//===- passes/MemoryEstimate.h - peak bytes of a function by liveness -----===//
//
// Every op result is a buffer that lives from its op to its last use (a use
// inside a loop body counts as a use at the loop). A loop body's own values
// live during one step and are counted once, on top of what is live around
// the loop. The peak over the function, under concrete sizes for the symbolic
// dims, is what a liveness-based memory plan needs at most without in-place
// reuse; it is what the BPTT residual stacks, truncation and checkpointing
// change, so the tools report it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

#include <string>

namespace weft::passes {

struct MemoryEstimate {
  /// The largest number of bytes live at once in buffers the function creates (parameters
  /// are the caller's and not counted; results are).
  int64_t peakBytes = 0;
  /// Bytes of the largest single buffer, and which value it is (for the report).
  int64_t largestBytes = 0;
  std::string largestName;
};

/// Estimates `f`'s memory under `dims`; an error names a symbol `dims` does not bind.
Expected<MemoryEstimate> estimateMemory(const ir::Function &f, const ir::DimBindings &dims);

} // namespace weft::passes
