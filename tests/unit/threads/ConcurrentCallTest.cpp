//===- tests/unit/threads/ConcurrentCallTest.cpp - many callers, one function ---===//
//
// Ten threads call one compiled function at once, each with its own shapes and inputs, through
// the JIT's Executable::run and through weft_aot_call. Shared between the calls: the plan cache
// (ten shapes, more than it holds, so plans are evicted while other calls use them), the arena
// pool (arenas of ten sizes change hands) and the thread pool. Every result must be the bits a
// serial run of the same inputs gave.
//
// Under ThreadSanitizer (scripts/build.sh tsan) the JIT runs as usual inside the instrumented
// process. TSan sees weft's C++ (Executable::run, weft_aot_call, the caches and pools,
// weft_parallel_for) and the libc calls generated code makes (memcpy, memset: intercepted). It
// does not see the loads and stores of generated code, JIT or AOT (not instrumented), nor
// libtbb's internals: a race inside a kernel shows up here only as a result that differs from
// the serial run.
//
//===----------------------------------------------------------------------===//
#include "tests/unit/threads/RnnModel.h"
#include "tests/unit/threads/ThreadsUtil.h"

#include <doctest/doctest.h>

#include <string>

namespace weft::threadstest::threads_ConcurrentCallTest {
namespace {

constexpr size_t kCallers = 10;
constexpr int kCallsEach = 3;

void checkConcurrentCalls(Path path) {
  RnnModel model;
  std::vector<Case> cases = model.makeCases(path, kCallers);
  ThreadCount tc(4);
  // Written by caller t only, read after the join.
  std::vector<std::string> errors(kCallers);
  std::vector<int> wrong(kCallers, 0);
  onThreads(kCallers, [&](size_t t) {
    for (int rep = 0; rep < kCallsEach; ++rep) {
      auto got = model.call(path, cases[t].in, cases[t].dims);
      if (!got)
        errors[t] = got.diag().str();
      else if (!identical(*got, cases[t].want))
        ++wrong[t];
    }
  });
  for (size_t t = 0; t < kCallers; ++t) {
    CAPTURE(t);
    CHECK(errors[t] == "");
    CHECK(wrong[t] == 0);
  }
}

} // namespace

TEST_CASE("threads: 10 threads calling one JIT function with their own inputs get serial results") {
  checkConcurrentCalls(Path::Jit);
}

TEST_CASE("threads: 10 threads in weft_aot_call on one function with their own inputs get serial "
          "results") {
  checkConcurrentCalls(Path::Aot);
}

} // namespace weft::threadstest::threads_ConcurrentCallTest
