//===- tests/unit/threads/ThreadsTest.cpp - one Executable, several threads ---===//
#include "tests/unit/cpu/Parity.h"

#include <thread>

using namespace weft;
using namespace weft::cputest;

TEST_CASE("cpu: one Executable run from 4 threads at once gives identical results") {
  Compiled c = compileText(kLstm);
  ir::DimBindings dims{{"T", 100}, {"B", 8}};
  std::vector<Array> in = randomInputs(*c.module->function("lstm"), dims, {}, 4);
  auto first = c.exe->run("lstm", in);
  REQUIRE_OK(first);
  // Every repetition's results (or error) are kept and compared, not only the last good one.
  const int reps = 5;
  std::vector<std::vector<std::vector<Array>>> outs(4);
  std::vector<std::vector<std::string>> errors(outs.size());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < outs.size(); ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < reps; ++rep) {
        auto r = c.exe->run("lstm", in);
        errors[t].push_back(testing::errorText(r));
        outs[t].push_back(r ? std::move(*r) : std::vector<Array>{});
      }
    });
  for (std::thread &t : threads)
    t.join();
  int64_t compared = 0;
  for (size_t t = 0; t < outs.size(); ++t)
    for (size_t rep = 0; rep < outs[t].size(); ++rep) {
      CAPTURE(t);
      CAPTURE(rep);
      CHECK(errors[t][rep] == "");
      REQUIRE(outs[t][rep].size() == first->size());
      for (size_t r = 0; r < first->size(); ++r, ++compared)
        checkClose(outs[t][rep][r], (*first)[r], Tolerance::exact());
    }
  CHECK(compared == static_cast<int64_t>(outs.size()) * reps * 2);
}
