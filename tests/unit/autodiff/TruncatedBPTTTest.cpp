// Truncated BPTT and checkpointing, checked against models that make the same cut by hand.
#include "backends/reference/Interpreter.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/autodiff/Autodiff.h"
#include "runtime/Random.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/autodiff/SameValues.h"

#include <doctest/doctest.h>

namespace autodiff_TruncatedBPTTTest {

using namespace weft;
using weft::autodifftest::checkSame;

namespace {

/// A tanh RNN over 6 steps; the loss reads every hidden state and the final state is a
/// second result (what truncated BPTT carries into the next call).
const char *kWhole =
    R"(func @whole(%xs: tensor<6 x 2 x 3 x f64>, %W: tensor<3 x 3 x f64>, %h0: tensor<2 x 3 x f64>) -> (tensor<f64>, tensor<2 x 3 x f64>) {
  %hT, %hs = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<2 x 3 x f64>, %x: tensor<2 x 3 x f64>):
    %m = matmul %h, %W : tensor<2 x 3 x f64>
    %s = add %m, %x : tensor<2 x 3 x f64>
    %h2 = tanh %s : tensor<2 x 3 x f64>
    yield %h2, %h2
  } : tensor<2 x 3 x f64>, tensor<6 x 2 x 3 x f64>
  %sq = mul %hs, %hs : tensor<6 x 2 x 3 x f64>
  %l = reduce_sum %sq {axes = [0, 1, 2]} : tensor<f64>
  return %l, %hT
}
)";

/// The same model as two 3-step scans with the state cut (stop_gradient) between them and
/// before the first.
const char *kCut =
    R"(func @cut(%xs: tensor<6 x 2 x 3 x f64>, %W: tensor<3 x 3 x f64>, %h0: tensor<2 x 3 x f64>) -> (tensor<f64>, tensor<2 x 3 x f64>) {
  %a = slice %xs {axis = 0, limit = 3, start = 0} : tensor<3 x 2 x 3 x f64>
  %b = slice %xs {axis = 0, limit = 6, start = 3} : tensor<3 x 2 x 3 x f64>
  %c0 = stop_gradient %h0 : tensor<2 x 3 x f64>
  %h1, %hs1 = scan carry(%c0) over(%a) {
  ^body(%h: tensor<2 x 3 x f64>, %x: tensor<2 x 3 x f64>):
    %m = matmul %h, %W : tensor<2 x 3 x f64>
    %s = add %m, %x : tensor<2 x 3 x f64>
    %h2 = tanh %s : tensor<2 x 3 x f64>
    yield %h2, %h2
  } : tensor<2 x 3 x f64>, tensor<3 x 2 x 3 x f64>
  %c1 = stop_gradient %h1 : tensor<2 x 3 x f64>
  %hT, %hs2 = scan carry(%c1) over(%b) {
  ^body(%g: tensor<2 x 3 x f64>, %y: tensor<2 x 3 x f64>):
    %m2 = matmul %g, %W : tensor<2 x 3 x f64>
    %s2 = add %m2, %y : tensor<2 x 3 x f64>
    %g2 = tanh %s2 : tensor<2 x 3 x f64>
    yield %g2, %g2
  } : tensor<2 x 3 x f64>, tensor<3 x 2 x 3 x f64>
  %hs = concat %hs1, %hs2 {axis = 0} : tensor<6 x 2 x 3 x f64>
  %sq = mul %hs, %hs : tensor<6 x 2 x 3 x f64>
  %l = reduce_sum %sq {axes = [0, 1, 2]} : tensor<f64>
  return %l, %hT
}
)";

std::vector<Array> inputs() {
  std::vector<Array> in{Array(DType::F64, {6, 2, 3}), Array(DType::F64, {3, 3}),
                        Array(DType::F64, {2, 3})};
  for (size_t i = 0; i < in.size(); ++i)
    for (int64_t k = 0; k < in[i].numel(); ++k)
      in[i].setDouble(k, 2.0 * random::uniformF64(static_cast<int64_t>(i) + 11, k) - 1.0);
  return in;
}

std::vector<Array> gradient(const char *ir, autodiff::GradOptions options) {
  auto m = ir::parseModule(ir, "tbptt.wir");
  REQUIRE_OK(m);
  options.wrt = {"W", "xs", "h0"};
  auto g = autodiff::buildGradient(**m, *(*m)->functions().front(), options);
  REQUIRE_OK(g);
  Status ok = ir::verify(**m);
  REQUIRE_MESSAGE(ok.isOk(), std::string(ok.message() + "\n" + ir::print(**m)));
  auto out = reference::run(**g, inputs());
  REQUIRE_OK(out);
  return std::move(*out);
}

} // namespace

TEST_CASE("truncated BPTT equals full BPTT through explicitly cut segments") {
  autodiff::GradOptions truncated;
  truncated.truncate = 3;
  truncated.keepResults = true;
  autodiff::GradOptions full;
  full.keepResults = true;
  std::vector<Array> t = gradient(kWhole, truncated), c = gradient(kCut, full);
  checkSame(t, c);
  // keepResults: loss, final state, then dW, dxs, dh0; the cut before step 0 leaves dh0 zero.
  REQUIRE(t.size() == 5);
  CHECK(t[1].shape() == std::vector<int64_t>{2, 3});
  for (int64_t k = 0; k < t[4].numel(); ++k)
    CHECK(t[4].getDouble(k) == 0.0);
}

TEST_CASE("truncation changes the gradient (the cut is real)") {
  autodiff::GradOptions truncated;
  truncated.truncate = 3;
  std::vector<Array> t = gradient(kWhole, truncated), f = gradient(kWhole, {});
  double diff = 0;
  for (int64_t k = 0; k < t[1].numel(); ++k)
    diff += std::abs(t[1].getDouble(k) - f[1].getDouble(k));
  CHECK(diff > 1e-3);
}

TEST_CASE("checkpointed BPTT gives the full gradient and keeps only segment carries") {
  autodiff::GradOptions every3;
  every3.checkpointEvery = 3;
  checkSame(gradient(kWhole, every3), gradient(kWhole, {}));

  auto m = ir::parseModule(kWhole, "tbptt.wir");
  REQUIRE(m.isOk());
  auto g = autodiff::buildGradient(**m, *(*m)->functions().front(), every3);
  REQUIRE(g.isOk());
  // The function-level forward scan runs over 2 segments of 3 steps and stacks the carries
  // entering the 2 segments (tensor<2 x 2 x 3>), not the 6 steps.
  std::string text = ir::print(**g);
  CHECK(text.find("over(%xs") == std::string::npos);
  CHECK(text.find(
            "} : tensor<2 x 3 x f64>, tensor<2 x 3 x 2 x 3 x f64>, tensor<2 x 2 x 3 x f64>\n") !=
        std::string::npos);
}

} // namespace autodiff_TruncatedBPTTTest
