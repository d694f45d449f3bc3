//===- tests/unit/cpu/LstmTest.cpp - the LSTM layer the JIT exists for ----===//
#include "Parity.h"

namespace cpu_LstmTest {

using namespace weft;
using namespace weft::cputest;

TEST_CASE("cpu: an LSTM over T=100 matches the interpreter; compile time is reported") {
  Compiled c = compileText(kLstm);
  MESSAGE("LSTM scan JIT compile time: " << c.cpu->compileMillis() << " ms");
  CHECK(c.cpu->compileMillis() > 0);
  checkParity(c, "lstm", {{"T", 100}, {"B", 8}}, kLstmTolerance, {}, 4);
}

} // namespace cpu_LstmTest
