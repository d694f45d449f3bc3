//===- tests/unit/cpu/GruSavedGatesKernelTest.cpp - gru's training form ===//
//
// The training form of gru_sequence ({save_gates}: r, z, n, and with linear_before_reset the
// recurrent projection's n part, saved) and the gru_sequence_grad that reads them, written in IR
// beside the plain forward and gradient that recompute them, on the cpu backend's kernels
// (EmitGru.cpp, EmitGruRnnGrad.cpp) and on the interpreter (the oracle): both forms, odd sizes,
// T = 1 and B = 1, symbolic B and I, lengths (zero included) and reverse, f32 and f64. The
// saved gradients equal the recomputed ones (f64), the forward's hs is that of the inference
// form bit for bit, no result depends on the thread count, the gates are those of a
// hand-computed case, and gates no forward made are what the gradient reads.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace cpu_GruSavedGatesKernelTest {

using namespace weft;
using namespace weft::cputest;

namespace {

struct Case {
  int64_t input, hidden, batch, steps;
  bool pytorch, lengths, reverse, symbolicBatch, symbolicInput;
  const char *dtype;
};

const Case kCases[] = {
    {5, 37, 13, 19, true, true, true, false, false, "f32"}, // H past vectors, B past panels
    {9, 32, 7, 5, false, false, false, true, false, "f64"}, // H a multiple of the lanes, Cho
    {6, 20, 9, 11, true, false, false, true, true, "f64"},  // symbolic I and B
    {6, 20, 9, 11, false, true, false, true, true, "f64"},  // Cho, symbolic I and B, lengths
    {3, 19, 14, 10, false, false, true, true, true, "f32"}, // Cho reversed
    {4, 17, 1, 1, true, false, false, false, false, "f64"}, // T = 1, B = 1
    {7, 3, 5, 4, true, true, true, false, false, "f64"},    // H below one vector, lengths
    {7, 3, 5, 4, false, true, true, false, false, "f64"},   // the same, Cho's form
    {2, 5, 3, 1, false, true, false, false, false, "f64"},  // T = 1 with lengths 0 and 1
};

/// Results 0-5: the saved form's gradient; 6: its gates; 7-12: the plain form's gradient;
/// 13, 14: hs of the saving and of the plain forward.
constexpr size_t kSaved = 0, kPlain = 7, kSavedHs = 13, kPlainHs = 14;

struct Types {
  std::string bh, hs, gs, xs, wx, wh, bias, grads;
};

Types typesOf(const Case &c) {
  std::string dt = c.dtype, B = c.symbolicBatch ? "B" : std::to_string(c.batch),
              I = c.symbolicInput ? "I" : std::to_string(c.input);
  const int64_t h = c.hidden;
  Types t;
  t.bh = fmt::format("tensor<{} x {} x {}>", B, h, dt);
  t.hs = fmt::format("tensor<T x {} x {} x {}>", B, h, dt);
  t.gs = fmt::format("tensor<T x {} x {} x {}>", B, (c.pytorch ? 4 : 3) * h, dt);
  t.xs = fmt::format("tensor<T x {} x {} x {}>", B, I, dt);
  t.wx = fmt::format("tensor<{} x {} x {}>", I, 3 * h, dt);
  t.wh = fmt::format("tensor<{} x {} x {}>", h, 3 * h, dt);
  t.bias = fmt::format("tensor<{} x {}>", 3 * h, dt);
  t.grads = fmt::format("{}, {}, {}, {}, {}, {}", t.xs, t.bh, t.wx, t.wh, t.bias, t.bias);
  return t;
}

/// The attributes of the plain and of the saving form.
std::string attrsOf(const Case &c, bool save) {
  std::vector<std::string> a;
  if (c.pytorch)
    a.push_back("linear_before_reset = 1");
  if (c.reverse)
    a.push_back("reverse = 1");
  if (save)
    a.push_back("save_gates = 1");
  return a.empty() ? "" : fmt::format(" {{{}}}", fmt::join(a, ", "));
}

std::string params(const Case &c, const Types &t) {
  std::string B = c.symbolicBatch ? "B" : std::to_string(c.batch);
  return fmt::format("%xs: {}, %h0: {}, %wx: {}, %wh: {}, %bx: {}, %bh: {}{}, %dhs: {}, %dhT: {}",
                     t.xs, t.bh, t.wx, t.wh, t.bias, t.bias,
                     c.lengths ? fmt::format(", %len: tensor<{} x i64>", B) : "", t.hs, t.bh);
}

std::string gradModule(const Case &c) {
  Types t = typesOf(c);
  std::string len = c.lengths ? ", %len" : "";
  std::string plain = attrsOf(c, false), saving = attrsOf(c, true);
  return fmt::format(
      "func @grad({params}) -> ({grads}, {gs}, {grads}, {hs}, {hs}) {{\n"
      "  %hs, %hT, %gates = gru_sequence %xs, %h0, %wx, %wh, %bx, %bh{len}{saving} : {hs}, {bh}, "
      "{gs}\n"
      "  %dxs, %dh0, %dwx, %dwh, %dbx, %dbh = gru_sequence_grad %xs, %h0, %wx, %wh, %bx, %bh, "
      "%hs, %dhs, %dhT, %gates{len}{saving} : {grads}\n"
      "  %ps, %pT = gru_sequence %xs, %h0, %wx, %wh, %bx, %bh{len}{plain} : {hs}, {bh}\n"
      "  %ex, %eh0, %ewx, %ewh, %ebx, %ebh = gru_sequence_grad %xs, %h0, %wx, %wh, %bx, %bh, "
      "%ps, %dhs, %dhT{len}{plain} : {grads}\n"
      "  return %dxs, %dh0, %dwx, %dwh, %dbx, %dbh, %gates, %ex, %eh0, %ewx, %ewh, %ebx, %ebh, "
      "%hs, %ps\n}}\n",
      fmt::arg("params", params(c, t)), fmt::arg("bh", t.bh), fmt::arg("hs", t.hs),
      fmt::arg("gs", t.gs), fmt::arg("grads", t.grads), fmt::arg("len", len),
      fmt::arg("plain", plain), fmt::arg("saving", saving));
}

/// As gradModule's, but the saving gradient reads hs of the plain forward and %given, the gates
/// of another forward (its wh is %wh2): gates in a forward's ranges that the forward of hs did
/// not make. Results its gradient, then the recomputing one.
std::string givenGatesModule(const Case &c) {
  Types t = typesOf(c);
  std::string len = c.lengths ? ", %len" : "";
  return fmt::format(
      "func @given({params}, %wh2: {wh}) -> ({grads}, {grads}) {{\n"
      "  %ps, %pT = gru_sequence %xs, %h0, %wx, %wh, %bx, %bh{len}{plain} : {hs}, {bh}\n"
      "  %qs, %qT, %g = gru_sequence %xs, %h0, %wx, %wh2, %bx, %bh{len}{saving} : {hs}, {bh}, "
      "{gs}\n"
      "  %dxs, %dh0, %dwx, %dwh, %dbx, %dbh = gru_sequence_grad %xs, %h0, %wx, %wh, %bx, %bh, "
      "%ps, %dhs, %dhT, %g{len}{saving} : {grads}\n"
      "  %ex, %eh0, %ewx, %ewh, %ebx, %ebh = gru_sequence_grad %xs, %h0, %wx, %wh, %bx, %bh, "
      "%ps, %dhs, %dhT{len}{plain} : {grads}\n"
      "  return %dxs, %dh0, %dwx, %dwh, %dbx, %dbh, %ex, %eh0, %ewx, %ewh, %ebx, %ebh\n}}\n",
      fmt::arg("params", params(c, t)), fmt::arg("bh", t.bh), fmt::arg("hs", t.hs),
      fmt::arg("gs", t.gs), fmt::arg("wh", t.wh), fmt::arg("grads", t.grads), fmt::arg("len", len),
      fmt::arg("plain", attrsOf(c, false)), fmt::arg("saving", attrsOf(c, true)));
}

/// As LstmGradKernelTest: a weight's gradient sums T * B products, each through the gates of a
/// step whose pre-activations sum I + H + 2 terms, and dh is carried back T steps.
Tolerance gradTolerance(const Case &c) {
  return Tolerance::sum(6 * (c.input + c.hidden + 2) * c.steps * c.batch,
                        6.0 * (c.input + c.hidden + 2));
}

/// The case, for test output.
std::string describe(const Case &c) {
  return fmt::format("I {} H {} B {} T {} {} lengths {} reverse {} {}", c.input, c.hidden, c.batch,
                     c.steps, c.pytorch ? "PyTorch's" : "Cho's", c.lengths, c.reverse, c.dtype);
}

Array arr(std::vector<int64_t> shape, std::vector<double> v) {
  Array a(DType::F64, shape);
  for (size_t i = 0; i < v.size(); ++i)
    a.setDouble(static_cast<int64_t>(i), v[i]);
  return a;
}

} // namespace

TEST_CASE("cpu gru training form: saved gates give the recomputed gradients, for any thread "
          "count") {
  uint64_t seed = 57;
  for (const Case &c : kCases) {
    const std::string what = describe(c);
    INFO(what);
    auto m = ir::parseModule(gradModule(c));
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
    checkTargets(compiled, "grad", in, dims, *want, gradTolerance(c));

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
          checkClose((*results)[kSaved + r], (*results)[kPlain + r], gradTolerance(c));
        }
  }
}

TEST_CASE("cpu gru_sequence_grad {save_gates} reads the gates it is given, not a recomputation") {
  uint64_t seed = 301;
  for (const Case &c : kCases) {
    const std::string what = describe(c);
    INFO(what);
    auto m = ir::parseModule(givenGatesModule(c));
    REQUIRE_OK(m);
    Compiled compiled = compileModule(std::move(*m));
    ir::DimBindings dims{{"T", c.steps}, {"B", c.batch}, {"I", c.input}};
    const ir::Function *f = compiled.module->function("given");
    REQUIRE(f);
    std::map<size_t, ParamGen> gens;
    if (c.lengths)
      gens[6] = {Gen::Index, c.steps + 1};
    std::vector<Array> in = randomInputs(*f, dims, gens, ++seed);
    auto want = reference::run(*f, in, dims);
    REQUIRE_OK(want);
    // The interpreter's gradient from another forward's gates is not the recomputing one: dwh
    // (every step of every example contributes) differs by far more than rounding...
    double diff = 0;
    const Array &dwh = (*want)[3], &recomputed = (*want)[6 + 3];
    for (int64_t i = 0; i < dwh.numel(); ++i)
      diff = std::max(diff, std::fabs(dwh.getDouble(i) - recomputed.getDouble(i)));
    bool anyStep = !c.lengths; // all lengths may be 0
    for (int64_t b = 0; c.lengths && b < c.batch; ++b)
      anyStep |= in[6].getInt(b) > 0;
    if (anyStep)
      CHECK(diff > 1e-3);
    // ... and the cpu's is the interpreter's.
    checkTargets(compiled, "given", in, dims, *want, gradTolerance(c));
  }
}

TEST_CASE("gru training form: gates are r, z, n (and h . wh_n + bh_n) of each step, zero on "
          "padded steps") {
  // T = 2, B = 2, I = 1, H = 1, example 1 of length 1: its step 1 is padded. h0 = 0 and
  // wh = 0: each step's gates depend on its x alone; h . wh_n + bh_n = bh_n.
  for (bool pytorch : {true, false}) {
    CAPTURE(pytorch);
    const int64_t width = pytorch ? 4 : 3;
    std::string gs = fmt::format("tensor<2 x 2 x {} x f64>", width);
    auto m = ir::parseModule(fmt::format(
        "func @f(%xs: tensor<2 x 2 x 1 x f64>, %h0: tensor<2 x 1 x f64>, %wx: tensor<1 x 3 x "
        "f64>, %wh: tensor<1 x 3 x f64>, %bx: tensor<3 x f64>, %bh: tensor<3 x f64>, %len: "
        "tensor<2 x i64>) -> ({0}) {{\n"
        "  %hs, %hT, %g = gru_sequence %xs, %h0, %wx, %wh, %bx, %bh, %len {{{1}save_gates = 1}} "
        ": tensor<2 x 2 x 1 x f64>, tensor<2 x 1 x f64>, {0}\n"
        "  return %g\n}}\n",
        gs, pytorch ? "linear_before_reset = 1, " : ""));
    REQUIRE_OK(m);
    Compiled compiled = compileModule(std::move(*m));
    Array len(DType::I64, {2});
    len.setInt(0, 2);
    len.setInt(1, 1);
    const double wx[3] = {1.0, -2.0, 0.5}, bx[3] = {0.1, 0.2, -0.3}, bh[3] = {0.4, -0.1, 0.7};
    std::vector<Array> in = {arr({2, 2, 1}, {0.5, -1.0, 2.0, 3.0}),
                             arr({2, 1}, {0, 0}),
                             arr({1, 3}, {wx[0], wx[1], wx[2]}),
                             arr({1, 3}, {0, 0, 0}),
                             arr({3}, {bx[0], bx[1], bx[2]}),
                             arr({3}, {bh[0], bh[1], bh[2]}),
                             len};
    auto sig = [](double z) { return 1 / (1 + std::exp(-z)); };
    std::vector<double> gates(static_cast<size_t>(4 * width), 0.0);
    for (int t = 0; t < 2; ++t)
      for (int b = 0; b < 2; ++b) {
        if (t >= (b == 0 ? 2 : 1))
          continue; // padded: zero
        double x = in[0].getDouble(t * 2 + b);
        double r = sig(x * wx[0] + bx[0] + bh[0]), z = sig(x * wx[1] + bx[1] + bh[1]);
        // PyTorch's n: tanh(x wx_n + bx_n + r (h . wh_n + bh_n)); Cho's: r multiplies h only.
        double n = std::tanh(x * wx[2] + bx[2] + (pytorch ? r * bh[2] : bh[2]));
        const double a[4] = {r, z, n, bh[2]};
        for (int q = 0; q < width; ++q)
          gates[static_cast<size_t>((t * 2 + b) * width + q)] = a[q];
      }
    std::vector<Array> want = {arr({2, 2, width}, gates)};
    auto ref = reference::run(*compiled.module->function("f"), in, {});
    REQUIRE_OK(ref);
    checkClose((*ref)[0], want[0], Tolerance::ulp(4));
    checkTargets(compiled, "f", in, {}, want, Tolerance::ulp(8));
  }
}

} // namespace cpu_GruSavedGatesKernelTest
