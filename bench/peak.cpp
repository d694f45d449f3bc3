//===- bench/peak.cpp - the host's measured f32 FMA peak, printed ---------===//
//
// The denominator of every "fraction of peak" in docs/Benchmarks.md: the GFLOP/s that
// independent FMA chains reach on 1..N threads (PeakFlops.h). The bench scripts run it in the
// same run as the workloads they measure.
//
// Usage: weft-bench-peak [--raw] [THREADS ...]      (default: 1 and 2)
//   --raw prints "threads gflops isa" per thread count.
//
//===----------------------------------------------------------------------===//
#include "bench/PeakFlops.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char **argv) {
  bool raw = false;
  std::vector<int> threads;
  for (int k = 1; k < argc; ++k) {
    if (std::strcmp(argv[k], "--raw") == 0) {
      raw = true;
      continue;
    }
    char *end = nullptr;
    long n = std::strtol(argv[k], &end, 10);
    if (*end != '\0' || n < 1 || n > 1024) {
      fmt::print(stderr, "usage: weft-bench-peak [--raw] [THREADS ...]\n");
      return 2;
    }
    threads.push_back(static_cast<int>(n));
  }
  if (threads.empty())
    threads = {1, 2};
  for (int n : threads) {
    weft::bench::PeakFlops p = weft::bench::measurePeakFlops(n);
    if (raw)
      fmt::print("{} {:.1f} {}\n", n, p.gflops, p.isa);
    else
      fmt::print("f32 FMA peak, {} thread{}: {:.1f} GFLOP/s ({})\n", n, n == 1 ? "" : "s", p.gflops,
                 p.isa);
  }
  return 0;
}
