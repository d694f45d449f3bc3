//===- tests/unit/threads/ThreadsUtil.h - helpers of the threads tests ----===//
//
// A scoped thread count, a bit-for-bit comparison that worker threads can call (doctest's
// REQUIRE must stay on the main thread), and a runner that starts workers and joins them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/Parallel.h"

#include <cstring>
#include <functional>
#include <thread>
#include <vector>

namespace weft::threadstest {

/// Sets the thread count for one scope; restores the default after.
struct ThreadCount {
  explicit ThreadCount(int n) { setNumThreads(n); }
  ~ThreadCount() { setNumThreads(0); }
  ThreadCount(const ThreadCount &) = delete;
  ThreadCount &operator=(const ThreadCount &) = delete;
};

/// Whether `a` and `b` hold the same arrays, bit for bit (NaNs included).
inline bool identical(const std::vector<Array> &a, const std::vector<Array> &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].dtype() != b[i].dtype() || a[i].shape() != b[i].shape() ||
        std::memcmp(a[i].data(), b[i].data(), a[i].nbytes()) != 0)
      return false;
  return true;
}

/// Runs `work(t)` for t in [0, n) on n threads at once and waits for all of them.
inline void onThreads(size_t n, const std::function<void(size_t)> &work) {
  std::vector<std::thread> threads;
  for (size_t t = 0; t < n; ++t)
    threads.emplace_back(work, t);
  for (std::thread &t : threads)
    t.join();
}

} // namespace weft::threadstest
