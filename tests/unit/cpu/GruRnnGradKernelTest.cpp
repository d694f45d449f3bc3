//===- tests/unit/cpu/GruRnnGradKernelTest.cpp - the cpu's gru/rnn_sequence_grad ===//
//
// gru_sequence_grad (PyTorch's and Cho's forms) and rnn_sequence_grad (tanh and relu) written
// directly in IR after the forward op whose hs they read, run by the cpu backend's kernel
// (EmitGruRnnGrad.cpp) and by the interpreter (the oracle): odd sizes, H past one vector and
// not a multiple of it, T = 1 and B = 1, static and symbolic B and I, lengths (zero included)
// and reverse, f32 and f64. The results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace cpu_GruRnnGradKernelTest {

using namespace weft;
using namespace weft::cputest;

namespace {

enum class Cell { GruPyTorch, GruCho, RnnTanh, RnnRelu };

struct Case {
  Cell cell;
  int64_t input, hidden, batch, steps;
  bool lengths, reverse, symbolicBatch, symbolicInput;
  const char *dtype;
};

const Case kCases[] = {
    {Cell::GruPyTorch, 5, 37, 13, 9, true, true, false, false, "f32"},  // H past vectors
    {Cell::GruCho, 9, 19, 7, 5, true, false, true, false, "f32"},       // symbolic B
    {Cell::GruPyTorch, 6, 20, 9, 6, false, false, true, true, "f64"},   // symbolic I and B
    {Cell::GruCho, 3, 5, 4, 7, false, true, true, true, "f64"},         // reverse
    {Cell::GruPyTorch, 4, 17, 1, 1, false, false, false, false, "f32"}, // T = 1, B = 1
    {Cell::GruCho, 2, 3, 3, 1, true, false, false, false, "f64"},       // T = 1, lengths 0, 1
    {Cell::RnnTanh, 5, 37, 13, 9, true, true, false, false, "f32"},
    {Cell::RnnTanh, 3, 7, 1, 1, false, false, true, true, "f64"},
    {Cell::RnnRelu, 6, 20, 9, 6, true, false, true, false, "f64"},
    {Cell::RnnRelu, 4, 16, 5, 4, false, true, false, true, "f32"},
};

bool isGru(Cell c) { return c == Cell::GruPyTorch || c == Cell::GruCho; }

/// @grad(xs, h0, wx, wh, bx [, bh] [, len], dhs, dhT): the forward op, then its gradient with
/// adjoints dhs, dhT.
std::string gradModule(const Case &c) {
  const bool gru = isGru(c.cell);
  std::string dt = c.dtype, B = c.symbolicBatch ? "B" : std::to_string(c.batch),
              I = c.symbolicInput ? "I" : std::to_string(c.input);
  const int64_t h = c.hidden, g = (gru ? 3 : 1) * h;
  std::string bh = fmt::format("tensor<{} x {} x {}>", B, h, dt);
  std::string hs = fmt::format("tensor<T x {} x {} x {}>", B, h, dt);
  std::string xs = fmt::format("tensor<T x {} x {} x {}>", B, I, dt);
  std::string wx = fmt::format("tensor<{} x {} x {}>", I, g, dt);
  std::string wh = fmt::format("tensor<{} x {} x {}>", h, g, dt);
  std::string bias = fmt::format("tensor<{} x {}>", g, dt);
  std::vector<std::string> attrs;
  if (c.cell == Cell::GruPyTorch)
    attrs.push_back("linear_before_reset = 1");
  if (c.cell == Cell::RnnRelu)
    attrs.push_back("relu = 1");
  if (c.reverse)
    attrs.push_back("reverse = 1");
  std::string attr = attrs.empty() ? "" : fmt::format(" {{{}}}", fmt::join(attrs, ", "));
  std::string len = c.lengths ? ", %len" : "";
  std::string biases = gru ? "%bx, %bh" : "%bx";
  std::string biasParams =
      gru ? fmt::format("%bx: {0}, %bh: {0}", bias) : fmt::format("%bx: {}", bias);
  std::string biasResults = gru ? fmt::format("{0}, {0}", bias) : bias;
  std::string dbs = gru ? "%dbx, %dbh" : "%dbx";
  const char *op = gru ? "gru_sequence" : "rnn_sequence";
  return fmt::format(
      "func @grad(%xs: {0}, %h0: {1}, %wx: {2}, %wh: {3}, {4}{5}, %dhs: {6}, %dhT: {1}) -> ({0}, "
      "{1}, {2}, {3}, {7}) {{\n"
      "  %hs, %hT = {8} %xs, %h0, %wx, %wh, {9}{10}{11} : {6}, {1}\n"
      "  %dxs, %dh0, %dwx, %dwh, {12} = {8}_grad %xs, %h0, %wx, %wh, {9}, %hs, %dhs, %dhT{10}{11} "
      ": {0}, {1}, {2}, {3}, {7}\n"
      "  return %dxs, %dh0, %dwx, %dwh, {12}\n}}\n",
      xs, bh, wx, wh, biasParams, c.lengths ? fmt::format(", %len: tensor<{} x i64>", B) : "", hs,
      biasResults, op, biases, len, attr, dbs);
}

} // namespace

TEST_CASE("cpu gru_sequence_grad, rnn_sequence_grad kernel: matches the interpreter, for any "
          "thread count") {
  uint64_t seed = 91;
  for (const Case &c : kCases) {
    CAPTURE(static_cast<int>(c.cell));
    CAPTURE(c.input);
    CAPTURE(c.hidden);
    CAPTURE(c.batch);
    CAPTURE(c.steps);
    CAPTURE(c.lengths);
    CAPTURE(c.reverse);
    CAPTURE(c.dtype);
    std::string text = gradModule(c);
    INFO(text);
    auto m = ir::parseModule(text);
    REQUIRE_OK(m);
    Compiled compiled = compileModule(std::move(*m));
    ir::DimBindings dims{{"T", c.steps}, {"B", c.batch}, {"I", c.input}};
    const ir::Function *f = compiled.module->function("grad");
    REQUIRE(f);
    std::map<size_t, ParamGen> gens;
    if (c.lengths)
      gens[isGru(c.cell) ? 6 : 5] = {Gen::Index, c.steps + 1};
    std::vector<Array> in = randomInputs(*f, dims, gens, ++seed);
    auto want = reference::run(*f, in, dims);
    REQUIRE_OK(want);
    // As LstmGradKernelTest's bound: a weight's gradient sums T * B chains through the gates
    // of a step whose pre-activations sum I + H + 2 terms, and dh is carried back T steps.
    int64_t terms = 8 * (c.input + c.hidden + 2) * c.steps * c.batch;
    checkTargets(compiled, "grad", in, dims, *want,
                 Tolerance::sum(terms, 8.0 * (c.input + c.hidden + 2)));

    REQUIRE(compiled.cpu);
    std::vector<std::vector<Array>> byThreads;
    for (int threads : {1, 2}) {
      setNumThreads(threads);
      auto got = compiled.cpu->run("grad", in, {.dims = dims});
      REQUIRE_OK(got);
      byThreads.push_back(std::move(*got));
    }
    setNumThreads(0);
    REQUIRE(byThreads[0].size() == want->size());
    for (size_t r = 0; r < byThreads[0].size(); ++r) {
      CAPTURE(r);
      checkClose(byThreads[1][r], byThreads[0][r], Tolerance::exact());
    }
  }
}

TEST_CASE("rnn_sequence_grad takes f' from the hs it is given, not from a recomputed forward") {
  // The gradient alone, hs a parameter no forward made (random values): da = dht (1 - h^2), or
  // dht where h > 0. A kernel (or the interpreter) that recomputed a = x wx + hp wh + b instead
  // would not match db computed by hand below.
  for (bool relu : {false, true}) {
    CAPTURE(relu);
    const std::string text = fmt::format(R"(
func @grad(%xs: tensor<3 x 2 x 4 x f64>, %h0: tensor<2 x 5 x f64>, %wx: tensor<4 x 5 x f64>, %wh: tensor<5 x 5 x f64>, %b: tensor<5 x f64>, %hs: tensor<3 x 2 x 5 x f64>, %dhs: tensor<3 x 2 x 5 x f64>, %dhT: tensor<2 x 5 x f64>, %len: tensor<2 x i64>) -> (tensor<3 x 2 x 4 x f64>, tensor<2 x 5 x f64>, tensor<4 x 5 x f64>, tensor<5 x 5 x f64>, tensor<5 x f64>) {{
  %dxs, %dh0, %dwx, %dwh, %db = rnn_sequence_grad %xs, %h0, %wx, %wh, %b, %hs, %dhs, %dhT, %len{} : tensor<3 x 2 x 4 x f64>, tensor<2 x 5 x f64>, tensor<4 x 5 x f64>, tensor<5 x 5 x f64>, tensor<5 x f64>
  return %dxs, %dh0, %dwx, %dwh, %db
}}
)",
                                         relu ? " {relu = 1}" : "");
    Compiled compiled = compileText(text);
    const ir::Function *f = compiled.module->function("grad");
    REQUIRE(f);
    std::vector<Array> in = randomInputs(*f, {}, {{8, {Gen::Index, 4}}}, 77);
    in[8].setInt(0, 3);
    in[8].setInt(1, 2);
    auto want = reference::run(*f, in, {});
    REQUIRE_OK(want);
    // db's first unit, by hand: the steps backwards with dh carried through wh^T.
    double db0 = 0;
    for (int64_t b = 0; b < 2; ++b) {
      std::vector<double> dh(5);
      for (int64_t j = 0; j < 5; ++j)
        dh[static_cast<size_t>(j)] = in[7].getDouble(b * 5 + j);
      for (int64_t t = in[8].getInt(b) - 1; t >= 0; --t) {
        std::vector<double> da(5);
        for (int64_t j = 0; j < 5; ++j) {
          const int64_t at = (t * 2 + b) * 5 + j;
          const double h = in[5].getDouble(at),
                       dht = dh[static_cast<size_t>(j)] + in[6].getDouble(at);
          da[static_cast<size_t>(j)] = relu ? (h > 0 ? dht : 0.0) : dht * (1 - h * h);
        }
        db0 += da[0];
        for (int64_t i = 0; i < 5; ++i) {
          dh[static_cast<size_t>(i)] = 0;
          for (int64_t j = 0; j < 5; ++j)
            dh[static_cast<size_t>(i)] += da[static_cast<size_t>(j)] * in[3].getDouble(i * 5 + j);
        }
      }
    }
    CHECK((*want)[4].getDouble(0) == doctest::Approx(db0).epsilon(1e-12));
    checkTargets(compiled, "grad", in, {}, *want, Tolerance::sum(8 * 11 * 6, 8.0 * 11));
  }
}

} // namespace cpu_GruRnnGradKernelTest
