//===- backends/cpu/PerfMap.h - name JIT code for Linux perf ---------------===//
//
// With WEFT_PERF_MAP=1 in the environment, the JIT appends every function it
// links (entry points and the outlined loop bodies alike) to
// /tmp/perf-<pid>.map, the file `perf report` reads to name addresses in
// anonymous executable memory. Without it, `perf record` of a weft program
// shows its kernels as "[unknown]".
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

namespace llvm::orc {
class ObjectLinkingLayer;
} // namespace llvm::orc

namespace weft::cpu {

/// Whether WEFT_PERF_MAP asks for a perf map (set and not "0").
bool perfMapRequested();

/// The map file of this process, /tmp/perf-<pid>.map.
std::string perfMapPath();

/// Makes `layer` append each graph it links, its callable symbols, to perfMapPath().
void addPerfMapPlugin(llvm::orc::ObjectLinkingLayer &layer);

} // namespace weft::cpu
