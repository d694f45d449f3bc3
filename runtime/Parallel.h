//===- runtime/Parallel.h - the thread pool generated code runs on ---------===//
//
// Parallelism lives here, not in kernels: generated code (the JIT's and AOT
// binaries') calls weft_parallel_for with an outlined body and a context
// pointer. Work runs on oneTBB under a settable thread count: WEFT_NUM_THREADS
// in the environment (read once), else the machine's concurrency, unless
// weft::setNumThreads() says otherwise.
//
// Chunk boundaries depend only on `n` and `grain`, never on the thread count:
// [0, n) is halved recursively (the lower half first) until a piece holds at
// most `grain` indices, exactly as tbb::simple_partitioner splits a
// blocked_range. With one thread the same chunks run in order on the caller.
// A body that only writes its own chunk's outputs therefore gives bit-identical
// results for any thread count. Calls from several threads at once are safe.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

/// Runs `body(ctx, begin, end)` over chunks covering [0, n), possibly in parallel; returns when
/// all have run. `grain` (at least 1) bounds the size of a chunk. Bodies must not throw.
extern "C" void weft_parallel_for(void (*body)(void *ctx, int64_t begin, int64_t end), void *ctx,
                                  int64_t n, int64_t grain);

/// The number of threads weft_parallel_for uses now (at least 1), for generated code that
/// sizes its tasks to the pool. Results must not depend on it.
extern "C" int64_t weft_num_threads(void);

namespace weft {

/// Sets the number of threads weft_parallel_for uses from now on (in calls that start later);
/// `n <= 0` restores the default (WEFT_NUM_THREADS, else the hardware's concurrency).
void setNumThreads(int n);

/// The number of threads weft_parallel_for uses now (at least 1).
int numThreads();

} // namespace weft
