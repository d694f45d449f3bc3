//===- bench/PeakFlops.h - the host's measured f32 FMA peak ---------------===//
//
// What one core (and n cores together) can do at best in f32: many
// independent FMA chains on the widest vectors the host supports (AVX-512F,
// else AVX2+FMA, else SSE mul+add), chosen at run time with
// __builtin_cpu_supports. Measured, not computed from a spec sheet, so it
// reflects this machine's clocks (and, on a shared VM, its neighbours).
// Matmul rates are printed as a fraction of it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

namespace weft::bench {

struct PeakFlops {
  std::string isa;   ///< "avx512f", "avx2+fma" or "sse2"
  double gflops = 0; ///< all threads together
};

/// The best over `runs` of the f32 GFLOP/s that `threads` std::threads reach together, each
/// running the FMA loop for about `seconds`.
PeakFlops measurePeakFlops(int threads, double seconds = 0.1, int runs = 7);

} // namespace weft::bench
