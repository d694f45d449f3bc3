//===- tests/unit/cpu/LstmSavedGatesKernelTest.cpp - lstm's training form ===//
//
// The training form of lstm_sequence ({save_gates}: its activated gates and c saved) and the
// lstm_sequence_grad that reads them, written in IR beside the plain forward and gradient
// that recompute them, on the cpu backend's kernels (EmitLstm.cpp, EmitLstmGrad.cpp) and on
// the interpreter (the oracle): odd sizes, T = 1 and B = 1, symbolic B and I, lengths (zero
// included) and reverse, f32 and f64. The saved gradients equal the recomputed ones (f64), the
// forward's hs is that of the inference form bit for bit, and no result depends on the
// thread count.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

#include <cmath>

namespace cpu_LstmSavedGatesKernelTest {

using namespace weft;
using namespace weft::cputest;

namespace {

struct SavedGatesCase {
  int64_t input, hidden, batch, steps;
  bool lengths, reverse, symbolicBatch, symbolicInput;
  const char *dtype;
};

const SavedGatesCase kSavedGatesCases[] = {
    {5, 37, 13, 19, true, true, false, false, "f32"}, // H past vectors, B past panels
    {9, 32, 7, 5, false, false, true, false, "f64"},  // H a multiple of the lanes
    {6, 20, 9, 11, true, false, true, true, "f64"},   // symbolic I and B, lengths
    {3, 19, 14, 10, false, true, true, true, "f32"},  // reverse, symbolic I and B
    {4, 17, 1, 1, false, false, false, false, "f64"}, // T = 1, B = 1
    {7, 3, 5, 4, true, true, false, false, "f64"},    // H below one vector, reverse, lengths
    {2, 5, 3, 1, true, false, false, false, "f64"},   // T = 1 with lengths 0 and 1
};

/// Results 0-5: the saved form's gradient; 6, 7: its gates and cs; 8-13: the plain form's
/// gradient; 14, 15: hs of the saving and of the plain forward.
constexpr size_t kSaved = 0, kPlain = 8, kSavedHs = 14, kPlainHs = 15;

std::string savedGatesGradModule(const SavedGatesCase &c) {
  std::string dt = c.dtype, B = c.symbolicBatch ? "B" : std::to_string(c.batch),
              I = c.symbolicInput ? "I" : std::to_string(c.input);
  const int64_t h = c.hidden;
  std::string bh = fmt::format("tensor<{} x {} x {}>", B, h, dt);
  std::string hs = fmt::format("tensor<T x {} x {} x {}>", B, h, dt);
  std::string gs = fmt::format("tensor<T x {} x {} x {}>", B, 4 * h, dt);
  std::string xs = fmt::format("tensor<T x {} x {} x {}>", B, I, dt);
  std::string wx = fmt::format("tensor<{} x {} x {}>", I, 4 * h, dt);
  std::string wh = fmt::format("tensor<{} x {} x {}>", h, 4 * h, dt);
  std::string bias = fmt::format("tensor<{} x {}>", 4 * h, dt);
  std::string len = c.lengths ? ", %len" : "";
  std::string plain = c.reverse ? " {reverse = 1}" : "";
  std::string saving = c.reverse ? " {reverse = 1, save_gates = 1}" : " {save_gates = 1}";
  std::string grads = fmt::format("{0}, {1}, {1}, {2}, {3}, {4}", xs, bh, wx, wh, bias);
  return fmt::format(
      "func @grad(%xs: {xs}, %h0: {bh}, %c0: {bh}, %wx: {wx}, %wh: {wh}, %b: {bias}{lenArg}, "
      "%dhs: {hs}, %dhT: {bh}, %dcT: {bh}) -> ({grads}, {gs}, {hs}, {grads}, {hs}, {hs}) {{\n"
      "  %hs, %hT, %cT, %gates, %cs = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b{len}{saving} : "
      "{hs}, {bh}, {bh}, {gs}, {hs}\n"
      "  %dxs, %dh0, %dc0, %dwx, %dwh, %db = lstm_sequence_grad %xs, %h0, %c0, %wx, %wh, %b, "
      "%hs, %dhs, %dhT, %dcT, %gates, %cs{len}{saving} : {grads}\n"
      "  %ps, %pT, %pcT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b{len}{plain} : {hs}, {bh}, "
      "{bh}\n"
      "  %ex, %eh0, %ec0, %ewx, %ewh, %eb = lstm_sequence_grad %xs, %h0, %c0, %wx, %wh, %b, "
      "%ps, %dhs, %dhT, %dcT{len}{plain} : {grads}\n"
      "  return %dxs, %dh0, %dc0, %dwx, %dwh, %db, %gates, %cs, %ex, %eh0, %ec0, %ewx, %ewh, "
      "%eb, %hs, %ps\n}}\n",
      fmt::arg("xs", xs), fmt::arg("bh", bh), fmt::arg("wx", wx), fmt::arg("wh", wh),
      fmt::arg("bias", bias), fmt::arg("hs", hs), fmt::arg("gs", gs), fmt::arg("grads", grads),
      fmt::arg("lenArg", c.lengths ? fmt::format(", %len: tensor<{} x i64>", B) : ""),
      fmt::arg("len", len), fmt::arg("plain", plain), fmt::arg("saving", saving));
}

} // namespace

TEST_CASE("cpu lstm training form: saved gates give the recomputed gradients, for any thread "
          "count") {
  uint64_t seed = 91;
  for (const SavedGatesCase &c : kSavedGatesCases) {
    CAPTURE(c.input);
    CAPTURE(c.hidden);
    CAPTURE(c.batch);
    CAPTURE(c.steps);
    CAPTURE(c.lengths);
    CAPTURE(c.reverse);
    CAPTURE(c.symbolicBatch);
    CAPTURE(c.symbolicInput);
    CAPTURE(c.dtype);
    auto m = ir::parseModule(savedGatesGradModule(c));
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
    // As LstmGradKernelTest: a weight's gradient sums T * B products, each through the gates
    // of a step whose pre-activations sum I + H + 2 terms, and dh is carried back T steps.
    int64_t terms = 8 * (c.input + c.hidden + 2) * c.steps * c.batch;
    checkTargets(compiled, "grad", in, dims, *want,
                 Tolerance::sum(terms, 8.0 * (c.input + c.hidden + 2)));

    std::vector<std::vector<Array>> byThreads;
    for (int threads : {1, 2}) {
      setNumThreads(threads);
      auto got = compiled.cpu->run("grad", in, {.dims = dims});
      REQUIRE_OK(got);
      byThreads.push_back(std::move(*got));
    }
    setNumThreads(0);
    for (size_t r = 0; r < byThreads[0].size(); ++r) {
      CAPTURE(r);
      checkClose(byThreads[1][r], byThreads[0][r], Tolerance::exact());
    }
    // The saving forward computes what the inference form does.
    checkClose(byThreads[0][kSavedHs], byThreads[0][kPlainHs], Tolerance::exact());
    // In f64 the saved gates are the recomputed ones up to rounding: so are the gradients, on
    // the interpreter and on the cpu.
    if (std::string(c.dtype) == "f64")
      for (const std::vector<Array> *results : {&*want, &byThreads[0]})
        for (size_t r = 0; r < 6; ++r) {
          CAPTURE(r);
          checkClose((*results)[kSaved + r], (*results)[kPlain + r],
                     Tolerance::sum(terms, 8.0 * (c.input + c.hidden + 2)));
        }
  }
}

TEST_CASE("lstm training form: gates and cs are the activated gates and c of each step, zero "
          "on padded steps") {
  // T = 2, B = 2, I = 1, H = 1, example 1 of length 1: its step 1 is padded.
  auto m = ir::parseModule(
      "func @f(%xs: tensor<2 x 2 x 1 x f64>, %h0: tensor<2 x 1 x f64>, %wx: tensor<1 x 4 x f64>, "
      "%wh: tensor<1 x 4 x f64>, %b: tensor<4 x f64>, %len: tensor<2 x i64>) -> "
      "(tensor<2 x 2 x 4 x f64>, tensor<2 x 2 x 1 x f64>) {\n"
      "  %hs, %hT, %cT, %g, %cs = lstm_sequence %xs, %h0, %h0, %wx, %wh, %b, %len "
      "{save_gates = 1} : tensor<2 x 2 x 1 x f64>, tensor<2 x 1 x f64>, tensor<2 x 1 x f64>, "
      "tensor<2 x 2 x 4 x f64>, tensor<2 x 2 x 1 x f64>\n"
      "  return %g, %cs\n}\n");
  REQUIRE_OK(m);
  Compiled compiled = compileModule(std::move(*m));
  auto arr = [](std::vector<int64_t> shape, std::vector<double> v) {
    Array a(DType::F64, shape);
    for (size_t i = 0; i < v.size(); ++i)
      a.setDouble(static_cast<int64_t>(i), v[i]);
    return a;
  };
  Array len(DType::I64, {2});
  len.setInt(0, 2);
  len.setInt(1, 1);
  // wh = 0 and h0 = c0 = 0: each step's gates depend on its x alone, z = x wx + b.
  std::vector<Array> in = {arr({2, 2, 1}, {0.5, -1.0, 2.0, 3.0}), arr({2, 1}, {0, 0}),
                           arr({1, 4}, {1.0, -2.0, 0.5, 3.0}),    arr({1, 4}, {0, 0, 0, 0}),
                           arr({4}, {0.1, 0.2, -0.3, 0.4}),       len};
  auto sig = [](double z) { return 1 / (1 + std::exp(-z)); };
  std::vector<double> gates(16, 0.0), cs(4, 0.0);
  double c[2] = {0, 0};
  for (int t = 0; t < 2; ++t)
    for (int b = 0; b < 2; ++b) {
      if (t >= (b == 0 ? 2 : 1))
        continue; // padded: zero
      double x = in[0].getDouble(t * 2 + b);
      double i = sig(x * 1.0 + 0.1), f = sig(x * -2.0 + 0.2), g = std::tanh(x * 0.5 - 0.3),
             o = sig(x * 3.0 + 0.4);
      c[b] = f * c[b] + i * g;
      const double a[4] = {i, f, g, o};
      for (int q = 0; q < 4; ++q)
        gates[(t * 2 + b) * 4 + q] = a[q];
      cs[t * 2 + b] = c[b];
    }
  std::vector<Array> want = {arr({2, 2, 4}, gates), arr({2, 2, 1}, cs)};
  auto ref = reference::run(*compiled.module->function("f"), in, {});
  REQUIRE_OK(ref);
  for (size_t r = 0; r < 2; ++r)
    checkClose((*ref)[r], want[r], Tolerance::ulp(4));
  checkTargets(compiled, "f", in, {}, want, Tolerance::ulp(8));
}

} // namespace cpu_LstmSavedGatesKernelTest
