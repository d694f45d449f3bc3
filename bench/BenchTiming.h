//===- bench/BenchTiming.h - wall-clock medians for the benchmarks -------===//
//
// The benchmarks time one call at a time with steady_clock (or the process's
// CPU time, WEFT_BENCH_CLOCK=cpu) and report the median of several runs taken
// after a warm-up, so one slow run (another process on a shared machine)
// moves nothing.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace weft::bench {

using Clock = std::chrono::steady_clock;

inline double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Whether the benchmarks time the process's CPU time rather than wall time: WEFT_BENCH_CLOCK=cpu
/// (bench/compare.py --cpu-time). On a loaded machine a call's wall time is mostly waiting for
/// a core; its CPU time is what it cost (at 1 thread the two agree on a quiet machine).
inline bool cpuClock() {
  static const bool cpu = [] {
    const char *v = std::getenv("WEFT_BENCH_CLOCK");
    return v && std::string_view(v) == "cpu";
  }();
  return cpu;
}

/// The process's CPU seconds so far, every thread's together.
inline double processCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

/// Seconds one call of `f` takes (CPU seconds under WEFT_BENCH_CLOCK=cpu).
template <typename F> double timeOnce(F &&f) {
  if (cpuClock()) {
    double a = processCpuSeconds();
    f();
    return processCpuSeconds() - a;
  }
  auto a = Clock::now();
  f();
  return seconds(a, Clock::now());
}

/// CPU seconds (processCpuSeconds) one call of `f` takes.
template <typename F> double cpuTimeOnce(F &&f) {
  double a = processCpuSeconds();
  f();
  return processCpuSeconds() - a;
}

/// The median of `xs` (which must not be empty).
inline double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

/// The median seconds of a call of `f` over about `budget` seconds of calls (at least `minRuns`,
/// at most `maxRuns`, the count stored in `runs`), after one warm-up call and three to estimate.
/// With `cpuTime`, each call is timed in CPU seconds (cpuTimeOnce) instead of wall seconds.
template <typename F>
double medianOverBudget(F &&f, double budget, int minRuns, int maxRuns, int &runs,
                        bool cpuTime = false) {
  auto timeOnce = [&] { return cpuTime ? cpuTimeOnce(f) : bench::timeOnce(f); };
  f();
  double est = median({timeOnce(), timeOnce(), timeOnce()});
  runs = static_cast<int>(std::clamp(budget / std::max(est, 1e-7), static_cast<double>(minRuns),
                                     static_cast<double>(maxRuns)));
  std::vector<double> times;
  for (int r = 0; r < runs; ++r)
    times.push_back(timeOnce());
  return median(times);
}

/// The median wall times of `runs` calls each of `f` and `g`, for two libraries that each run
/// their own thread pool. The calls come in blocks, f's then g's, over several rounds, with a
/// pause before each block: a pool's workers spin for a while after a call (OpenBLAS's for up to
/// about 0.1 s), and calls interleaved one by one would run each side against the other's
/// spinning threads on a machine with as many cores as threads. Rounds spread slow drift in the
/// machine's load over both sides alike.
template <typename F, typename G>
std::pair<double, double> medianSecondsInRounds(int runs, F &&f, G &&g) {
  constexpr int kRounds = 3;
  auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(150)); };
  std::vector<double> tf, tg;
  for (int r = 0; r < kRounds; ++r) {
    int n = (runs + kRounds - 1) / kRounds;
    pause();
    for (int i = 0; i < n; ++i)
      tf.push_back(timeOnce(f));
    pause();
    for (int i = 0; i < n; ++i)
      tg.push_back(timeOnce(g));
  }
  return {median(std::move(tf)), median(std::move(tg))};
}

} // namespace weft::bench
