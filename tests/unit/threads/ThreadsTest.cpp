//===- tests/unit/threads/ThreadsTest.cpp - one Executable, many threads -===//
#include "tests/unit/cpu/Parity.h"
#include "tests/unit/threads/RepeatedRuns.h"

namespace threads_ThreadsTest {

using namespace weft;
using namespace weft::cputest;

TEST_CASE("cpu: one Executable run from 4 threads at once gives identical results") {
  Compiled c = compileText(kLstm);
  ir::DimBindings dims{{"T", 100}, {"B", 8}};
  std::vector<Array> in = randomInputs(*c.module->function("lstm"), dims, {}, 4);
  auto first = c.cpu->run("lstm", in);
  REQUIRE_OK(first);
  // Every repetition's results (or error) are kept and compared, not only the last good one.
  const int reps = 5;
  int64_t compared =
      threadstest::compareRepeatedRuns(4, reps, [&] { return c.cpu->run("lstm", in); }, *first);
  CHECK(compared == int64_t{4} * reps * 2);
}

} // namespace threads_ThreadsTest
