//===- bench/BenchTiming.h - wall-clock medians for the benchmarks -------===//
//
// The benchmarks time one call at a time with steady_clock and report the
// median of several runs taken after a warm-up, so one slow run (another
// process on a shared machine) moves nothing.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace weft::bench {

using Clock = std::chrono::steady_clock;

inline double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Seconds one call of `f` takes.
template <typename F> double timeOnce(F &&f) {
  auto a = Clock::now();
  f();
  return seconds(a, Clock::now());
}

/// The median of `xs` (which must not be empty).
inline double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

} // namespace weft::bench
