//===- runtime/Parallel.cpp - weft_parallel_for on a oneTBB task_arena -----===//
//
// The thread count is enforced with one tbb::task_arena of that concurrency
// (shared by every caller thread; a caller that finds its slots taken hands its
// work to the arena and waits), plus a tbb::global_control where the count
// exceeds TBB's default worker limit. Changing the count swaps in a new arena;
// calls in flight keep the old one alive through a shared_ptr.
//
// Under ThreadSanitizer: oneTBB hands a task to a worker and reports its end
// inside libtbb, which Debian does not instrument, so TSan sees neither edge.
// handOff/takeOver below declare them (a task's creator happens before its
// run; every chunk happens before weft_parallel_for returns) on objects of one
// call only, so calls stay unordered with each other and a race between them
// is still reported. Races inside TBB's own header code are suppressed in
// tests/tsan.supp, each with its reason.
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

#if defined(__SANITIZE_THREAD__)
#define WEFT_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_UNDER_TSAN 1
#endif
#endif
#ifdef WEFT_UNDER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace weft {
namespace {

using Body = void (*)(void *, int64_t, int64_t);

/// What this thread wrote so far happens before the accesses of whoever calls takeOver(key)
/// later (a TSan release; nothing without TSan).
inline void handOff(const void *key) {
#ifdef WEFT_UNDER_TSAN
  __tsan_release(const_cast<void *>(key));
#else
  (void)key;
#endif
}

/// Everything written before earlier handOff(key)s happens before what this thread does next.
inline void takeOver(const void *key) {
#ifdef WEFT_UNDER_TSAN
  __tsan_acquire(const_cast<void *>(key));
#else
  (void)key;
#endif
}

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

/// One weft_parallel_for call on a pool with an arena.
struct Loop {
  Body body;
  void *ctx;
  int64_t n, grain;
};

/// The body tbb::parallel_for copies into its tasks; TBB makes a copy on the thread that splits
/// a range and runs it on the thread that takes the task. TBB's task allocator (in libtbb too)
/// gives the bytes of a finished task to the next, hence the hand-off at destruction.
class RunChunks {
public:
  explicit RunChunks(const Loop &loop) : loop_(&loop) { handOff(this); }
  RunChunks(const RunChunks &other) : loop_((takeOver(this), takeOver(&other), other.loop_)) {
    handOff(this);
  }
  RunChunks &operator=(const RunChunks &) = delete;
  ~RunChunks() { handOff(this); }
  void operator()(const tbb::blocked_range<int64_t> &r) const {
    takeOver(this);
    loop_->body(loop_->ctx, r.begin(), r.end());
    handOff(loop_); // weft_parallel_for takes over when the loop is done
  }

private:
  const Loop *loop_;
};

/// The work task_arena::execute runs: on the calling thread, or on a worker when the arena has
/// no free slot for the caller.
class RunLoop {
public:
  explicit RunLoop(const Loop &loop) : loop_(loop) { handOff(this); }
  void operator()() const {
    takeOver(this);
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, loop_.n, static_cast<size_t>(loop_.grain)),
                      RunChunks(loop_), tbb::simple_partitioner());
    handOff(&loop_);
  }

private:
  const Loop &loop_;
};

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
  weft::Loop loop{body, ctx, n, grain};
  weft::RunLoop run(loop);
  p->arena->execute(run);
  weft::takeOver(&loop);
}
