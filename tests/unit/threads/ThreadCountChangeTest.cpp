//===- tests/unit/threads/ThreadCountChangeTest.cpp - setNumThreads during runs ---===//
//
// Runtime/Parallel.h promises that calls in flight survive a change of the thread count (they
// keep the old pool) and that results do not depend on the count. Here callers (JIT and AOT)
// run while another thread sets a new count after every finished call, so counts change
// between and during the parallel loops of each run; every result must stay bit-identical.
//
//===----------------------------------------------------------------------===//
#include "tests/unit/threads/RnnModel.h"
#include "tests/unit/threads/ThreadsUtil.h"

#include <doctest/doctest.h>

#include <atomic>
#include <string>

namespace weft::threadstest::threads_ThreadCountChangeTest {

TEST_CASE("threads: changing the thread count while runs are in flight keeps results exact") {
  constexpr size_t kCallers = 4; // even callers through the JIT, odd ones through AOT
  constexpr int kCallsEach = 6;
  RnnModel model;
  std::vector<Case> jit = model.makeCases(Path::Jit, kCallers);
  std::vector<Case> aot = model.makeCases(Path::Aot, kCallers);
  std::atomic<size_t> running{kCallers};
  std::atomic<int64_t> finished{0};
  std::atomic<int> changes{0};
  // Written by caller t only, read after the join.
  std::vector<std::string> errors(kCallers);
  std::vector<int> wrong(kCallers, 0);
  onThreads(kCallers + 1, [&](size_t t) {
    if (t == kCallers) { // the changer
      const int counts[] = {1, 3, 2, 4, 0};
      while (running > 0) {
        int64_t seen = finished;
        setNumThreads(counts[changes % std::size(counts)]);
        ++changes;
        while (running > 0 && finished == seen)
          std::this_thread::yield();
      }
      return;
    }
    Path path = t % 2 ? Path::Aot : Path::Jit;
    const Case &c = (path == Path::Jit ? jit : aot)[t];
    for (int rep = 0; rep < kCallsEach; ++rep) {
      // Call `rep` waits for change `rep` + 1 (the changer makes one after any call finishes):
      // a fast caller would otherwise finish all its calls before the changer is scheduled.
      while (changes <= rep)
        std::this_thread::yield();
      auto got = model.call(path, c.in, c.dims);
      if (!got)
        errors[t] = got.diag().str();
      else if (!identical(*got, c.want))
        ++wrong[t];
      ++finished;
    }
    --running;
  });
  setNumThreads(0);
  CHECK(changes >= kCallsEach);
  for (size_t t = 0; t < kCallers; ++t) {
    CAPTURE(t);
    CHECK(errors[t] == "");
    CHECK(wrong[t] == 0);
  }
}

} // namespace weft::threadstest::threads_ThreadCountChangeTest
