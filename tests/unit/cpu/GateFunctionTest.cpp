//===- tests/unit/cpu/GateFunctionTest.cpp - the f32 gate sigmoid and tanh ===//
//
// The lstm_sequence kernel computes its f32 gates with sigmoid and tanh in f32 itself
// (Emitter::gateSigmoidOf / gateTanhOf, a degree-5 exp), not in double as the elementwise ops
// do. Their claim: within 3 ulps of the exact value, or 2^-126 absolute below it. Checked through a
// one-unit LSTM whose weights route x to a single gate: with I = H = 1, T = 1, c0 = 0 and the other
// gates saturated (sigmoid(20) and tanh(20) are 1 in f32), cT = tanh(x) when x drives the cell gate
// g, and cT = sigmoid(x) when it drives the input gate i.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

namespace cpu_GateFunctionTest {

using namespace weft;
using namespace weft::cputest;

namespace {

const char *kCell = R"(
func @cell(%xs: tensor<1 x B x 1 x f32>, %h0: tensor<B x 1 x f32>, %c0: tensor<B x 1 x f32>, %wx: tensor<1 x 4 x f32>, %wh: tensor<1 x 4 x f32>, %b: tensor<4 x f32>) -> (tensor<B x 1 x f32>) {
  %hs, %hT, %cT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b : tensor<1 x B x 1 x f32>, tensor<B x 1 x f32>, tensor<B x 1 x f32>
  return %cT
}
)";

std::vector<float> sweep() {
  std::vector<float> xs;
  for (int i = -3000; i <= 3000; ++i)
    xs.push_back(static_cast<float>(i) * 0.01f); // -30 ... 30
  for (float x = 1e-7f; x < 1.0f; x *= 1.05f) {  // small values, where tanh could cancel
    xs.push_back(x);
    xs.push_back(-x);
  }
  for (float x : {0.0f, -0.0f, 0.625f, -0.625f, 0.62499994f, 87.0f, -87.0f, 100.0f, -100.0f})
    xs.push_back(x);
  return xs;
}

/// cT for each x of `xs` with x routed by wx = `route` and the bias `bias`.
std::vector<float> run(const Compiled &c, const std::vector<float> &xs,
                       const std::vector<float> &route, const std::vector<float> &bias) {
  const auto n = static_cast<int64_t>(xs.size());
  std::vector<Array> in = {Array::of<float>({1, n, 1}, xs), Array(DType::F32, {n, 1}),
                           Array(DType::F32, {n, 1}),       Array::of<float>({1, 4}, route),
                           Array(DType::F32, {1, 4}),       Array::of<float>({4}, bias)};
  auto out = c.cpu->run("cell", in);
  REQUIRE_OK(out);
  const float *p = (*out)[0].data<float>();
  return {p, p + n};
}

/// |got - want| within 3 ulps of the f32 nearest to want (the spacing above it), or within the
/// smallest normal float where want is below it: the exp does not make subnormals, so
/// sigmoid(-100) = 3.7e-44 comes out as 4.5e-39.
void checkUlps(const std::vector<float> &xs, const std::vector<float> &got, double (*f)(double)) {
  for (size_t i = 0; i < xs.size(); ++i) {
    double want = f(static_cast<double>(xs[i]));
    float nearest = static_cast<float>(want);
    double ulp = std::nextafter(std::fabs(nearest), std::numeric_limits<float>::infinity()) -
                 std::fabs(nearest);
    CAPTURE(xs[i]);
    CAPTURE(want);
    CHECK(std::fabs(got[i] - want) <= std::max(3 * ulp, double{FLT_MIN}));
  }
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

} // namespace

TEST_CASE("cpu lstm_sequence kernel: its f32 sigmoid and tanh are within 3 ulps") {
  Compiled c = compileText(kCell);
  std::vector<float> xs = sweep();
  // Gates i, f, g, o: x into g, i and o saturated at 1, f irrelevant (c0 = 0).
  checkUlps(xs, run(c, xs, {0, 0, 1, 0}, {20, 0, 0, 20}), std::tanh);
  // x into i, g saturated at tanh(20) = 1.
  checkUlps(xs, run(c, xs, {1, 0, 0, 0}, {0, 0, 20, 0}), sigmoid);

  // NaN stays NaN.
  std::vector<float> nan = {std::numeric_limits<float>::quiet_NaN()};
  CHECK(std::isnan(run(c, nan, {0, 0, 1, 0}, {20, 0, 0, 20})[0]));
  CHECK(std::isnan(run(c, nan, {1, 0, 0, 0}, {0, 0, 20, 0})[0]));
}

} // namespace cpu_GateFunctionTest
