//===- runtime/Parallel.cpp - weft_parallel_for on a oneTBB task_arena -----===//
//
// The thread count is enforced with one tbb::task_arena of that concurrency
// (shared by every caller thread; a caller that finds its slots taken hands its
// work to the arena and waits), plus a tbb::global_control where the count
// exceeds TBB's default worker limit. Changing the count swaps in a new arena;
// calls in flight keep the old one alive through a shared_ptr.
//
//===----------------------------------------------------------------------===//
#include "runtime/Parallel.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>

namespace weft {
namespace {

using Body = void (*)(void *, int64_t, int64_t);

/// The arena of one thread count.
struct Pool {
  explicit Pool(int threads) : threads(threads) {
    if (threads > tbb::info::default_concurrency())
      control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                      static_cast<size_t>(threads));
    if (threads > 1) {
      arena = std::make_unique<tbb::task_arena>(threads);
      arena->initialize();
    }
  }
  int threads;
  std::unique_ptr<tbb::global_control> control;
  std::unique_ptr<tbb::task_arena> arena;
};

/// WEFT_NUM_THREADS when set to a positive number, else the hardware's concurrency.
int defaultThreads() {
  static const int n = [] {
    if (const char *env = std::getenv("WEFT_NUM_THREADS")) {
      int v = std::atoi(env);
      if (v > 0)
        return v;
    }
    return std::max(1, tbb::info::default_concurrency());
  }();
  return n;
}

std::mutex poolMutex;
std::shared_ptr<Pool> currentPool;

std::shared_ptr<Pool> pool() {
  std::lock_guard<std::mutex> lock(poolMutex);
  if (!currentPool)
    currentPool = std::make_shared<Pool>(defaultThreads());
  return currentPool;
}

/// The chunks tbb::simple_partitioner makes of [begin, end), in order, on this thread.
void runSerial(Body body, void *ctx, int64_t begin, int64_t end, int64_t grain) {
  while (end - begin > grain) {
    int64_t mid = begin + (end - begin) / 2;
    runSerial(body, ctx, begin, mid, grain);
    begin = mid;
  }
  body(ctx, begin, end);
}

} // namespace

void setNumThreads(int n) {
  auto next = std::make_shared<Pool>(n > 0 ? n : defaultThreads());
  std::lock_guard<std::mutex> lock(poolMutex);
  currentPool = std::move(next);
}

int numThreads() { return pool()->threads; }

} // namespace weft

extern "C" int64_t weft_num_threads(void) { return weft::numThreads(); }

extern "C" void weft_parallel_for(void (*body)(void *ctx, int64_t begin, int64_t end), void *ctx,
                                  int64_t n, int64_t grain) {
  if (n <= 0)
    return;
  if (grain < 1)
    grain = 1;
  std::shared_ptr<weft::Pool> p = weft::pool();
  if (!p->arena || n <= grain)
    return weft::runSerial(body, ctx, 0, n, grain);
  p->arena->execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, n, static_cast<size_t>(grain)),
        [&](const tbb::blocked_range<int64_t> &r) { body(ctx, r.begin(), r.end()); },
        tbb::simple_partitioner());
  });
}
