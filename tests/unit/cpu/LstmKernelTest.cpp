//===- tests/unit/cpu/LstmKernelTest.cpp - the cpu's lstm_sequence kernel -===//
//
// lstm_sequence written directly in IR, run by the cpu backend's kernel (EmitLstm.cpp) and by
// the interpreter, at sizes that reach every edge of the kernel's layout (LstmKernel.h): H
// past one strip of vector lanes and not a multiple of it, B past one panel of MR rows and not
// a multiple of it, T past one chunk of steps and not a multiple of it, T = 1 and B = 1,
// static and symbolic B and I (a symbolic I packs wx block by block), lengths and reverse, f32
// and f64. The results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

namespace cpu_LstmKernelTest {

using namespace weft;
using namespace weft::cputest;

namespace {

struct Case {
  int64_t input, hidden, batch, steps;
  bool lengths, reverse, symbolicBatch, symbolicInput;
  const char *dtype;
};

const Case kCases[] = {
    {5, 37, 13, 19, true, true, false, false, "f32"}, // 3 strips, 3 panels, chunks 16 + 3
    {9, 32, 7, 5, false, false, true, false, "f32"},  // H a multiple of the lanes
    {6, 20, 9, 11, true, false, true, true, "f64"},   // chunks 8 + 3, wx packed per block
    {3, 19, 14, 10, false, true, true, true, "f32"},  // reverse over a partial last chunk
    {4, 17, 1, 1, false, false, false, false, "f32"}, // T = 1, B = 1
    {7, 3, 5, 4, true, true, false, false, "f64"},    // one strip, part of it
};

std::string lstmModule(const Case &c) {
  std::string dt = c.dtype, B = c.symbolicBatch ? "B" : std::to_string(c.batch),
              I = c.symbolicInput ? "I" : std::to_string(c.input);
  const int64_t h = c.hidden;
  std::string bh = fmt::format("tensor<{} x {} x {}>", B, h, dt);
  std::string hs = fmt::format("tensor<T x {} x {} x {}>", B, h, dt);
  return fmt::format(
      "func @lstm(%xs: tensor<T x {0} x {1} x {2}>, %h0: {3}, %c0: {3}, %wx: tensor<{1} x {4} x "
      "{2}>, %wh: tensor<{5} x {4} x {2}>, %b: tensor<{4} x {2}>{6}) -> ({7}, {3}, {3}) {{\n"
      "  %hs, %hT, %cT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b{8}{9} : {7}, {3}, {3}\n"
      "  return %hs, %hT, %cT\n}}\n",
      B, I, dt, bh, 4 * h, h, c.lengths ? fmt::format(", %len: tensor<{} x i64>", B) : "", hs,
      c.lengths ? ", %len" : "", c.reverse ? " {reverse = 1}" : "");
}

} // namespace

TEST_CASE("cpu lstm_sequence kernel: matches the interpreter at every edge of its layout") {
  uint64_t seed = 31;
  for (const Case &c : kCases) {
    CAPTURE(c.input);
    CAPTURE(c.hidden);
    CAPTURE(c.batch);
    CAPTURE(c.steps);
    CAPTURE(c.lengths);
    CAPTURE(c.reverse);
    CAPTURE(c.symbolicBatch);
    CAPTURE(c.symbolicInput);
    CAPTURE(c.dtype);
    auto m = ir::parseModule(lstmModule(c));
    REQUIRE_OK(m);
    Compiled compiled = compileModule(std::move(*m));
    ir::DimBindings dims{{"T", c.steps}, {"B", c.batch}, {"I", c.input}};
    const ir::Function *f = compiled.module->function("lstm");
    REQUIRE(f);
    std::map<size_t, ParamGen> gens;
    if (c.lengths)
      gens[6] = {Gen::Index, c.steps + 1};
    std::vector<Array> in = randomInputs(*f, dims, gens, ++seed);
    auto want = reference::run(*f, in, dims);
    REQUIRE_OK(want);
    // Each step sums I + H + 2 terms into a gate; the state carries rounding from step to step.
    int64_t terms = 8 * (c.input + c.hidden + 2) * c.steps;
    checkTargets(compiled, "lstm", in, dims, *want,
                 Tolerance::sum(terms, 64.0 * (c.input + c.hidden + 2)));

    // Tasks split a step over strips of H only: bit-identical for any thread count.
    REQUIRE(compiled.cpu);
    std::vector<std::vector<Array>> byThreads;
    for (int threads : {1, 2}) {
      setNumThreads(threads);
      auto got = compiled.cpu->run("lstm", in, {.dims = dims});
      REQUIRE_OK(got);
      byThreads.push_back(std::move(*got));
    }
    setNumThreads(0);
    for (size_t r = 0; r < 3; ++r) {
      CAPTURE(r);
      checkClose(byThreads[1][r], byThreads[0][r], Tolerance::exact());
    }
  }
}

} // namespace cpu_LstmKernelTest
