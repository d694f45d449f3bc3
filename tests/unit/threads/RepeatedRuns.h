//===- tests/unit/threads/RepeatedRuns.h - one run repeated on several threads -===//
//
// Runs one computation from several caller threads at once and keeps every repetition's
// results (or error), not only the last good one, so that all of them can be compared.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tests/unit/cpu/Parity.h"
#include "tests/unit/threads/ThreadsUtil.h"

#include <functional>
#include <string>
#include <vector>

namespace weft::threadstest {

using RunOnce = std::function<Expected<std::vector<Array>>()>;

/// Runs `run` `reps` times on each of `threads` caller threads at once, then checks every
/// repetition against `expected` bit for bit. Returns how many arrays were compared.
inline int64_t compareRepeatedRuns(size_t threads, int reps, const RunOnce &run,
                                   const std::vector<Array> &expected) {
  std::vector<std::vector<std::vector<Array>>> outs(threads);
  std::vector<std::vector<std::string>> errors(threads);
  onThreads(threads, [&](size_t t) {
    for (int rep = 0; rep < reps; ++rep) {
      auto r = run();
      errors[t].push_back(testing::errorText(r));
      outs[t].push_back(r ? std::move(*r) : std::vector<Array>{});
    }
  });
  int64_t compared = 0;
  for (size_t t = 0; t < outs.size(); ++t)
    for (size_t rep = 0; rep < outs[t].size(); ++rep) {
      CAPTURE(t);
      CAPTURE(rep);
      CHECK(errors[t][rep] == "");
      REQUIRE(outs[t][rep].size() == expected.size());
      for (size_t r = 0; r < expected.size(); ++r, ++compared)
        cputest::checkClose(outs[t][rep][r], expected[r], cputest::Tolerance::exact());
    }
  return compared;
}

} // namespace weft::threadstest
