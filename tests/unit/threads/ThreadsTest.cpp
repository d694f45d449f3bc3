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
  REQUIRE_MESSAGE(first, first.diag().str());
  std::vector<std::vector<Array>> outs(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < outs.size(); ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 5; ++rep) {
        auto r = c.exe->run("lstm", in);
        if (r)
          outs[t] = std::move(*r);
      }
    });
  for (std::thread &t : threads)
    t.join();
  for (size_t t = 0; t < outs.size(); ++t) {
    CAPTURE(t);
    REQUIRE(outs[t].size() == first->size());
    for (size_t r = 0; r < outs[t].size(); ++r)
      checkClose(outs[t][r], (*first)[r], Tol::Exact, 0);
  }
}
