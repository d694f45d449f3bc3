//===- tests/unit/cpu/GruRnnKernelTest.cpp - the cpu's gru/rnn_sequence kernels ===//
//
// gru_sequence (PyTorch's form and Cho et al.'s) and rnn_sequence (tanh and relu) written
// directly in IR, run by the cpu backend's kernels (EmitGru.cpp, EmitRnn.cpp) and by the
// interpreter, at sizes that reach every edge of their layout (RecurrentKernel.h): H past one
// strip and not a multiple of it, H = 1, B past one panel of MR rows and not a multiple of it,
// T past one chunk of steps and not a multiple of it, T = 1 and B = 1, static and symbolic B
// and I (a symbolic I packs wx block by block), lengths and reverse, f32 and f64. The results
// do not depend on the thread count; the larger cases have work enough for a step (each pass
// of Cho's form too) to run on several threads.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

namespace cpu_GruRnnKernelTest {

using namespace weft;
using namespace weft::cputest;

namespace {

enum class Cell { GruPyTorch, GruCho, RnnTanh, RnnRelu };

struct KernelCase {
  Cell cell;
  int64_t input, hidden, batch, steps;
  bool lengths, reverse, symbolicBatch, symbolicInput;
  const char *dtype;
};

// Strips hold 16 (f32) or 8 (f64) units of a GRU, twice that of an RNN, with AVX-512.
const KernelCase kKernelCases[] = {
    {Cell::GruPyTorch, 5, 67, 11, 19, true, true, false, false, "f32"}, // partial strip, chunks
    {Cell::GruCho, 9, 90, 17, 5, false, false, true, false, "f32"},     // both passes threaded
    {Cell::GruCho, 6, 20, 9, 11, true, false, true, true, "f64"},       // wx packed per block
    {Cell::GruPyTorch, 3, 32, 14, 10, false, true, true, true, "f64"},  // whole strips
    {Cell::GruPyTorch, 4, 17, 1, 1, false, false, false, false, "f32"}, // T = 1, B = 1
    {Cell::GruCho, 7, 1, 3, 4, true, true, false, false, "f64"},        // H = 1
    {Cell::RnnTanh, 5, 75, 24, 19, true, true, false, false, "f32"},    // threaded, partial
    {Cell::RnnRelu, 9, 64, 7, 5, false, false, true, true, "f32"},      // whole strips
    {Cell::RnnTanh, 6, 20, 9, 11, true, false, true, false, "f64"},     // one partial strip
    {Cell::RnnRelu, 2, 1, 1, 1, false, true, false, false, "f64"},      // H = 1, T = 1, B = 1
};

bool isGru(Cell c) { return c == Cell::GruPyTorch || c == Cell::GruCho; }

std::string sequenceModule(const KernelCase &c) {
  std::string dt = c.dtype, B = c.symbolicBatch ? "B" : std::to_string(c.batch),
              I = c.symbolicInput ? "I" : std::to_string(c.input);
  const int64_t h = c.hidden, g = isGru(c.cell) ? 3 : 1;
  std::string bh = fmt::format("tensor<{} x {} x {}>", B, h, dt);
  std::string hs = fmt::format("tensor<T x {} x {} x {}>", B, h, dt);
  std::string bias = fmt::format("tensor<{} x {}>", g * h, dt);
  std::string params =
      fmt::format("%xs: tensor<T x {0} x {1} x {2}>, %h0: {3}, %wx: tensor<{1} x {4} x {2}>, "
                  "%wh: tensor<{5} x {4} x {2}>, %bx: {6}",
                  B, I, dt, bh, g * h, h, bias);
  std::string operands = "%xs, %h0, %wx, %wh, %bx";
  if (isGru(c.cell)) {
    params += ", %bh: " + bias;
    operands += ", %bh";
  }
  if (c.lengths) {
    params += fmt::format(", %len: tensor<{} x i64>", B);
    operands += ", %len";
  }
  std::vector<std::string> flags;
  if (c.cell == Cell::GruPyTorch)
    flags.push_back("linear_before_reset = 1");
  if (c.cell == Cell::RnnRelu)
    flags.push_back("relu = 1");
  if (c.reverse)
    flags.push_back("reverse = 1");
  std::string attrs = flags.empty() ? "" : fmt::format(" {{{}}}", fmt::join(flags, ", "));
  return fmt::format("func @seq({0}) -> ({1}, {2}) {{\n"
                     "  %hs, %hT = {3} {4}{5} : {1}, {2}\n"
                     "  return %hs, %hT\n}}\n",
                     params, hs, bh, isGru(c.cell) ? "gru_sequence" : "rnn_sequence", operands,
                     attrs);
}

} // namespace

TEST_CASE("cpu gru_sequence and rnn_sequence kernels: match the interpreter at every edge") {
  uint64_t seed = 41;
  for (const KernelCase &c : kKernelCases) {
    CAPTURE(static_cast<int>(c.cell));
    CAPTURE(c.input);
    CAPTURE(c.hidden);
    CAPTURE(c.batch);
    CAPTURE(c.steps);
    CAPTURE(c.lengths);
    CAPTURE(c.reverse);
    CAPTURE(c.symbolicBatch);
    CAPTURE(c.symbolicInput);
    CAPTURE(c.dtype);
    auto m = ir::parseModule(sequenceModule(c));
    REQUIRE_OK(m);
    Compiled compiled = compileModule(std::move(*m));
    ir::DimBindings dims{{"T", c.steps}, {"B", c.batch}, {"I", c.input}};
    const ir::Function *f = compiled.module->function("seq");
    REQUIRE(f);
    std::map<size_t, ParamGen> gens;
    if (c.lengths)
      gens[f->numParams() - 1] = {Gen::Index, c.steps + 1};
    std::vector<Array> in = randomInputs(*f, dims, gens, ++seed);
    auto want = reference::run(*f, in, dims);
    REQUIRE_OK(want);
    // Each step sums I + H + 2 terms into a gate; h carries rounding from step to step.
    int64_t terms = 8 * (c.input + c.hidden + 2) * c.steps;
    checkTargets(compiled, "seq", in, dims, *want,
                 Tolerance::sum(terms, 64.0 * (c.input + c.hidden + 2)));

    // Tasks split a step over strips of H only: bit-identical for any thread count.
    REQUIRE(compiled.cpu);
    std::vector<std::vector<Array>> byThreads;
    for (int threads : {1, 2}) {
      setNumThreads(threads);
      auto got = compiled.cpu->run("seq", in, {.dims = dims});
      REQUIRE_OK(got);
      byThreads.push_back(std::move(*got));
    }
    setNumThreads(0);
    for (size_t r = 0; r < 2; ++r) {
      CAPTURE(r);
      checkClose(byThreads[1][r], byThreads[0][r], Tolerance::exact());
    }
  }
}

} // namespace cpu_GruRnnKernelTest
