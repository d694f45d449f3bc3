//===- tests/unit/cpu/LstmGradKernelTest.cpp - the cpu's lstm_sequence_grad ===//
//
// lstm_sequence_grad written directly in IR after the lstm_sequence whose hs it reads, run by
// the cpu backend's kernel (EmitLstmGrad.cpp) and by the interpreter (the oracle): odd sizes,
// H past one vector and not a multiple of it, T = 1 and B = 1, static and symbolic B and I,
// lengths (zero included) and reverse, f32 and f64. The results do not depend on the thread
// count.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

namespace cpu_LstmGradKernelTest {

using namespace weft;
using namespace weft::cputest;

namespace {

struct GradCase {
  int64_t input, hidden, batch, steps;
  bool lengths, reverse, symbolicBatch, symbolicInput;
  const char *dtype;
};

const GradCase kGradCases[] = {
    {5, 37, 13, 19, true, true, false, false, "f32"}, // H past vectors, B past panels
    {9, 32, 7, 5, false, false, true, false, "f32"},  // H a multiple of the lanes
    {6, 20, 9, 11, true, false, true, true, "f64"},   // symbolic I and B
    {3, 19, 14, 10, false, true, true, true, "f32"},  // reverse, symbolic I and B
    {4, 17, 1, 1, false, false, false, false, "f32"}, // T = 1, B = 1
    {7, 3, 5, 4, true, true, false, false, "f64"},    // H below one vector
    {2, 5, 3, 1, true, false, false, false, "f64"},   // T = 1 with lengths 0 and 1
};

/// @grad(xs, h0, c0, wx, wh, b [, len], dhs, dhT, dcT): lstm_sequence, then the gradient of its
/// results with adjoints dhs, dhT, dcT.
std::string lstmGradModule(const GradCase &c) {
  std::string dt = c.dtype, B = c.symbolicBatch ? "B" : std::to_string(c.batch),
              I = c.symbolicInput ? "I" : std::to_string(c.input);
  const int64_t h = c.hidden;
  std::string bh = fmt::format("tensor<{} x {} x {}>", B, h, dt);
  std::string hs = fmt::format("tensor<T x {} x {} x {}>", B, h, dt);
  std::string xs = fmt::format("tensor<T x {} x {} x {}>", B, I, dt);
  std::string wx = fmt::format("tensor<{} x {} x {}>", I, 4 * h, dt);
  std::string wh = fmt::format("tensor<{} x {} x {}>", h, 4 * h, dt);
  std::string bias = fmt::format("tensor<{} x {}>", 4 * h, dt);
  std::string len = c.lengths ? ", %len" : "", attr = c.reverse ? " {reverse = 1}" : "";
  return fmt::format(
      "func @grad(%xs: {0}, %h0: {1}, %c0: {1}, %wx: {2}, %wh: {3}, %b: {4}{5}, %dhs: {6}, "
      "%dhT: {1}, %dcT: {1}) -> ({0}, {1}, {1}, {2}, {3}, {4}) {{\n"
      "  %hs, %hT, %cT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b{7}{8} : {6}, {1}, {1}\n"
      "  %dxs, %dh0, %dc0, %dwx, %dwh, %db = lstm_sequence_grad %xs, %h0, %c0, %wx, %wh, %b, "
      "%hs, %dhs, %dhT, %dcT{7}{8} : {0}, {1}, {1}, {2}, {3}, {4}\n"
      "  return %dxs, %dh0, %dc0, %dwx, %dwh, %db\n}}\n",
      xs, bh, wx, wh, bias, c.lengths ? fmt::format(", %len: tensor<{} x i64>", B) : "", hs, len,
      attr);
}

} // namespace

TEST_CASE("cpu lstm_sequence_grad kernel: matches the interpreter, for any thread count") {
  uint64_t seed = 71;
  for (const GradCase &c : kGradCases) {
    CAPTURE(c.input);
    CAPTURE(c.hidden);
    CAPTURE(c.batch);
    CAPTURE(c.steps);
    CAPTURE(c.lengths);
    CAPTURE(c.reverse);
    CAPTURE(c.symbolicBatch);
    CAPTURE(c.symbolicInput);
    CAPTURE(c.dtype);
    auto m = ir::parseModule(lstmGradModule(c));
    REQUIRE_OK(m);
    Compiled compiled = compileModule(std::move(*m));
    ir::DimBindings dims{{"T", c.steps}, {"B", c.batch}, {"I", c.input}};
    const ir::Function *f = compiled.module->function("grad");
    REQUIRE(f);
    std::map<size_t, ParamGen> gens;
    if (c.lengths)
      gens[6] = {Gen::Index, c.steps + 1};
    std::vector<Array> in = randomInputs(*f, dims, gens, ++seed);
    auto want = reference::run(*f, in, dims);
    REQUIRE_OK(want);
    // A weight's gradient sums T * B products, each from a chain through the gates of a step
    // whose pre-activations sum I + H + 2 terms, and dh is carried back through T steps.
    int64_t terms = 8 * (c.input + c.hidden + 2) * c.steps * c.batch;
    checkTargets(compiled, "grad", in, dims, *want,
                 Tolerance::sum(terms, 8.0 * (c.input + c.hidden + 2)));

    // Tasks split a step over examples and the GEMMs over tiles: bit-identical for any
    // thread count.
    REQUIRE(compiled.cpu);
    std::vector<std::vector<Array>> byThreads;
    for (int threads : {1, 2}) {
      setNumThreads(threads);
      auto got = compiled.cpu->run("grad", in, {.dims = dims});
      REQUIRE_OK(got);
      byThreads.push_back(std::move(*got));
    }
    setNumThreads(0);
    for (size_t r = 0; r < 6; ++r) {
      CAPTURE(r);
      checkClose(byThreads[1][r], byThreads[0][r], Tolerance::exact());
    }
  }
}

} // namespace cpu_LstmGradKernelTest
