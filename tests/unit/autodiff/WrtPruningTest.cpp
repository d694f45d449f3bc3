// autodiff with `wrt`: what no chosen parameter needs is not computed, and what is computed
// is the same to the bit.
#include "GradCheck.h"
#include "backends/reference/Interpreter.h"
#include "ir/Parser.h"
#include "ir/Walk.h"
#include "passes/autodiff/Autodiff.h"
#include "tests/unit/LstmIr.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>

namespace autodiff_WrtPruningTest {

using namespace weft;

namespace {

constexpr int64_t kI = 3, kH = 4, kB = 2, kT = 5;

/// An LSTM layer over T = 5 steps with its gates as [x, h] . W + bias (input 3, hidden 4:
/// dx_t is B x 3, dh_t B x 4, d[x, h]_t B x 7) and a loss on every hidden state.
std::string lstmLayer() {
  return fmt::format(
             R"(func @lstm(%xs: tensor<{T} x B x {I} x f64>, %W: tensor<{IH} x {H4} x f64>, %bias: tensor<{H4} x f64>, %h0: tensor<B x {H} x f64>, %r: tensor<{T} x B x {H} x f64>) -> (tensor<f64>) {{
  %hT, %cT, %hs = scan carry(%h0, %h0) over(%xs) {{
  ^body(%h: tensor<B x {H} x f64>, %c: tensor<B x {H} x f64>, %x: tensor<B x {I} x f64>):
)",
             fmt::arg("T", kT), fmt::arg("I", kI), fmt::arg("H", kH), fmt::arg("IH", kI + kH),
             fmt::arg("H4", 4 * kH)) +
         testing::lstmStep(
             {.input = kI, .hidden = kH, .gates = testing::LstmGates::ConcatBias, .dtype = "f64"}) +
         fmt::format(R"(    yield %h2, %c2, %h2
  }} : tensor<B x {H} x f64>, tensor<B x {H} x f64>, tensor<{T} x B x {H} x f64>
  %w = mul %hs, %r : tensor<{T} x B x {H} x f64>
  %l = reduce_sum %w {{axes = [0, 1, 2]}} : tensor<f64>
  return %l
}}
)",
                     fmt::arg("T", kT), fmt::arg("H", kH));
}

/// Counts the matmuls of `f` whose result is B x `cols` (B symbolic).
int countMatmulsInto(ir::Function &f, int64_t cols) {
  int n = 0;
  ir::walk(f.body(), [&](ir::Op &op) {
    if (op.kind() != ir::OpKind::Matmul)
      return;
    const ir::Type &t = op.result(0)->type();
    n += t.rank() == 2 && !t.dim(0).isStatic() && t.dim(1).size() == cols;
  });
  return n;
}

/// Deterministic, varied inputs for every parameter of @lstm.
std::vector<Array> inputs(const ir::Function &f) {
  std::vector<Array> xs;
  double k = 0;
  for (size_t i = 0; i < f.numParams(); ++i) {
    std::vector<int64_t> shape;
    for (int64_t d = 0; d < f.param(i)->type().rank(); ++d)
      shape.push_back(f.param(i)->type().dim(d).isStatic() ? f.param(i)->type().dim(d).size() : kB);
    Array a(ir::DType::F64, shape);
    for (int64_t j = 0; j < a.numel(); ++j)
      a.setDouble(j, 0.5 * std::sin(1.7 * ++k));
    xs.push_back(std::move(a));
  }
  return xs;
}

} // namespace

TEST_CASE("wrt = the weights: the reverse scan computes dh_t but neither dx_t nor d[x, h]_t") {
  auto m = ir::parseModule(lstmLayer(), "lstm.wir");
  REQUIRE_OK(m);
  autodiff::GradOptions weights, everything;
  weights.wrt = {"W", "bias"};
  weights.name = "weights_grad";
  auto g = autodiff::buildGradient(**m, *(*m)->function("lstm"), weights);
  REQUIRE_OK(g);
  CHECK(countMatmulsInto(**g, kI + kH) == 0);
  CHECK(countMatmulsInto(**g, kI) == 0);
  CHECK(countMatmulsInto(**g, kH) == 1); // dh_t = dz_t . W_h^T

  // With xs differentiated too, d[x, h]_t is one matmul, as before.
  everything.wrt = {"xs", "W", "bias", "h0"};
  auto full = autodiff::buildGradient(**m, *(*m)->function("lstm"), everything);
  REQUIRE_OK(full);
  CHECK(countMatmulsInto(**full, kI + kH) == 1);
}

TEST_CASE("wrt = the weights: the gradients are those of the full gradient, bit for bit") {
  auto m = ir::parseModule(lstmLayer(), "lstm.wir");
  REQUIRE_OK(m);
  const ir::Function &f = *(*m)->function("lstm");
  autodiff::GradOptions weights, everything;
  weights.wrt = {"W", "bias"};
  weights.name = "weights_grad";
  everything.wrt = {"xs", "W", "bias", "h0"};
  auto g = autodiff::buildGradient(**m, f, weights);
  REQUIRE_OK(g);
  auto full = autodiff::buildGradient(**m, f, everything);
  REQUIRE_OK(full);
  std::vector<Array> in = inputs(f);
  auto some = reference::run(**g, in);
  REQUIRE_OK(some);
  auto all = reference::run(**full, in);
  REQUIRE_OK(all);
  REQUIRE(some->size() == 3);
  REQUIRE(all->size() == 5);
  for (auto [s, a] : {std::pair{0, 0}, {1, 2}, {2, 3}}) { // loss, dW, dbias
    CAPTURE(s);
    const Array &x = (*some)[s], &y = (*all)[a];
    REQUIRE(x.shape() == y.shape());
    for (int64_t j = 0; j < x.numel(); ++j)
      CHECK(x.getDouble(j) == y.getDouble(j));
  }
}

/// An RNN whose float step counter %t scales the state: the loss depends on %t, but %W does
/// not vary it.
const char *const kCounterRnn =
    R"(func @rnn(%W: tensor<2 x 2 x f64>, %xs: tensor<3 x 1 x 2 x f64>, %h0: tensor<1 x 2 x f64>) -> (tensor<f64>) {
  %t0 = constant {value = [0.0]} : tensor<1 x 2 x f64>
  %one = constant {value = [1.0]} : tensor<1 x 2 x f64>
  %hT, %tT, %hs = scan carry(%h0, %t0) over(%xs) {
  ^body(%h: tensor<1 x 2 x f64>, %t: tensor<1 x 2 x f64>, %x: tensor<1 x 2 x f64>):
    %m = matmul %h, %W : tensor<1 x 2 x f64>
    %s = add %m, %x : tensor<1 x 2 x f64>
    %a = tanh %s : tensor<1 x 2 x f64>
    %h2 = mul %a, %t : tensor<1 x 2 x f64>
    %t2 = add %t, %one : tensor<1 x 2 x f64>
    yield %h2, %t2, %h2
  } : tensor<1 x 2 x f64>, tensor<1 x 2 x f64>, tensor<3 x 1 x 2 x f64>
  %l = reduce_sum %hs {axes = [0, 1, 2]} : tensor<f64>
  return %l
}
)";

TEST_CASE("a carry that no chosen parameter varies (a step counter) gets no state gradient") {
  auto m = ir::parseModule(kCounterRnn, "rnn.wir");
  REQUIRE_OK(m);
  autodiff::GradOptions weights;
  weights.wrt = {"W"};
  auto g = autodiff::buildGradient(**m, *(*m)->function("rnn"), weights);
  REQUIRE_OK(g);
  std::vector<int64_t> reverseCarries;
  for (auto &op : (*g)->body().ops())
    if (op->kind() == ir::OpKind::Scan && op->hasAttr("reverse"))
      reverseCarries.push_back(op->intAttr("num_carry"));
  CHECK(reverseCarries == std::vector<int64_t>{2}); // dh and dW; no dt
}

TEST_CASE("without the counter's state gradient, dW still matches finite differences") {
  testing::checkGradients({kCounterRnn, {"W"}});
}

/// An RNN that also sums its states in a carry %acc that the loss never reads.
const char *const kUnreadCarryRnn =
    R"(func @rnn(%W: tensor<2 x 2 x f64>, %xs: tensor<3 x 1 x 2 x f64>, %h0: tensor<1 x 2 x f64>) -> (tensor<f64>, tensor<1 x 2 x f64>) {
  %hT, %accT, %hs = scan carry(%h0, %h0) over(%xs) {
  ^body(%h: tensor<1 x 2 x f64>, %acc: tensor<1 x 2 x f64>, %x: tensor<1 x 2 x f64>):
    %m = matmul %h, %W : tensor<1 x 2 x f64>
    %s = add %m, %x : tensor<1 x 2 x f64>
    %h2 = tanh %s : tensor<1 x 2 x f64>
    %acc2 = add %acc, %h2 : tensor<1 x 2 x f64>
    yield %h2, %acc2, %h2
  } : tensor<1 x 2 x f64>, tensor<1 x 2 x f64>, tensor<3 x 1 x 2 x f64>
  %l = reduce_sum %hs {axes = [0, 1, 2]} : tensor<f64>
  return %l, %accT
}
)";

TEST_CASE("a carry the loss never reads gets no state gradient") {
  auto m = ir::parseModule(kUnreadCarryRnn, "rnn.wir");
  REQUIRE_OK(m);
  autodiff::GradOptions weights;
  weights.wrt = {"W"};
  auto g = autodiff::buildGradient(**m, *(*m)->function("rnn"), weights);
  REQUIRE_OK(g);
  std::vector<int64_t> reverseCarries;
  for (auto &op : (*g)->body().ops())
    if (op->kind() == ir::OpKind::Scan && op->hasAttr("reverse"))
      reverseCarries.push_back(op->intAttr("num_carry"));
  CHECK(reverseCarries == std::vector<int64_t>{2}); // dh and dW; no dacc
}

TEST_CASE("without the unread carry's state gradient, dW still matches finite differences") {
  testing::checkGradients({kUnreadCarryRnn, {"W"}});
}

} // namespace autodiff_WrtPruningTest
