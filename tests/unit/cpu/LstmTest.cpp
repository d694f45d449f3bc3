//===- tests/unit/cpu/LstmTest.cpp - the LSTM layer the JIT exists for ----===//
#include "Parity.h"

#include <chrono>

using namespace weft;
using namespace weft::cputest;

TEST_CASE("cpu: an LSTM over T=100 matches the interpreter; compile time is reported") {
  Compiled c = compileText(kLstm);
  MESSAGE("LSTM scan JIT compile time: " << c.exe->compileMillis() << " ms");
  CHECK(c.exe->compileMillis() > 0);
  // f32 matmuls accumulate in f32 (K = 16 and 32); gates are bounded, errors do not grow.
  checkParity(c, "lstm", {{"T", 100}, {"B", 8}}, Tol::Reduction, {}, 1e-4, 4);
  auto m = ir::parseModule(kLstm);
  REQUIRE(m);
  ir::DimBindings dims{{"T", 100}, {"B", 8}};
  std::vector<Array> in = randomInputs(*c.module->function("lstm"), dims, {}, 4);
  auto t0 = std::chrono::steady_clock::now();
  auto r1 = reference::run(*c.module->function("lstm"), in);
  auto t1 = std::chrono::steady_clock::now();
  auto r2 = c.exe->run("lstm", in);
  auto t2 = std::chrono::steady_clock::now();
  REQUIRE(r1);
  REQUIRE(r2);
  MESSAGE("LSTM T=100 B=8: interpreter "
          << std::chrono::duration<double, std::milli>(t1 - t0).count() << " ms, JIT "
          << std::chrono::duration<double, std::milli>(t2 - t1).count() << " ms");
}
