//===- backends/cpu/PerfMap.h - name JIT-compiled kernels for perf ---------===//
#pragma once

#include <llvm/ExecutionEngine/Orc/LLJIT.h>

namespace weft::cpu {

/// With WEFT_PERF_MAP set in the environment, makes `builder`'s JIT append the address, size
/// and name of every function it links to /tmp/perf-<pid>.map, for `perf report`.
void addPerfMapIfRequested(llvm::orc::LLJITBuilder &builder);

} // namespace weft::cpu
