//===- analysis/MemoryReport.h - a buffer plan's bytes under bound dims ---===//
//
// Sizes a BufferPlan's slots under concrete values of the symbolic dims and
// packs the arena slots with runtime/MemoryPlan.h, exactly as a JIT or AOT
// call does. The peak is what one call needs beyond its inputs: the arena
// plus the returned buffers the caller provides. This is what the BPTT
// residual stacks, truncation and checkpointing change, and what
// `weft-opt --report-memory` and `weftc --report-memory` print.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "analysis/BufferPlan.h"

#include <string>

namespace weft::analysis {

/// Bytes of a buffer of type `t` under `dims`, or an error for an unbound symbol, a negative
/// size or one that overflows.
Expected<size_t> slotBytes(const ir::Type &t, const ir::DimBindings &dims);

/// The arena layout of `plan` under `dims`: slots with disjoint live ranges share bytes; the
/// caller's slots (parameters, returned values) are not in it.
Expected<MemoryPlan> planArena(const BufferPlan &plan, const ir::DimBindings &dims);

struct MemoryReport {
  size_t arenaBytes = 0;     ///< as planned
  size_t unplannedBytes = 0; ///< one 64-byte-aligned range per arena buffer
  size_t buffers = 0;        ///< buffers in the arena
  size_t resultBytes = 0;    ///< returned buffers that are not parameters
  size_t peakBytes = 0;      ///< arenaBytes + resultBytes
  size_t largestBytes = 0;   ///< the largest buffer that is not a parameter, and its value
  std::string largestName;   ///< empty for scratch
};

/// The report of `plan` under `dims`; an error names a symbol `dims` does not bind.
Expected<MemoryReport> reportMemory(const BufferPlan &plan, const ir::DimBindings &dims);

} // namespace weft::analysis
