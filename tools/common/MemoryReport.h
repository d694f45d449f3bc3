//===- tools/common/MemoryReport.h - --report-memory, one line per function ===//
//
// `weft-opt --report-memory` and `weftc --report-memory` print this: per
// function, the buffer plan (analysis/BufferPlan.h) with the CPU backend's
// scratch for the target CPU, sized under the `--bind` values. The arena is
// the one a JIT or AOT call of that function allocates.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

#include <ostream>
#include <string>

namespace weft::tool {

/// Prints one line per function of `m` to `os`; `cpu` and `features` as cpu::AotOptions. An
/// error names the function and, for an unbound symbol, the symbol.
Status printMemoryReport(const ir::Module &m, const ir::DimBindings &dims, const std::string &cpu,
                         const std::string &features, std::ostream &os);

} // namespace weft::tool
