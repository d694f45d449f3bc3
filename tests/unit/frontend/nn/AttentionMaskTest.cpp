//===- tests/unit/frontend/nn/AttentionMaskTest.cpp - what the attention masks promise -===//
//
// Hand-checked behaviour on the reference interpreter: a masked key gets exactly zero weight,
// a causal layer's output at t does not depend on inputs after t, the sinusoidal encoding has
// the published values.
//
//===----------------------------------------------------------------------===//
#include "NnFixture.h"
#include "frontend/Weft.h"
#include "frontend/nn/attention/Masks.h"
#include "frontend/nn/attention/PositionalEncoding.h"
#include "frontend/nn/attention/ScaledDotProduct.h"
#include "frontend/nn/attention/Transformer.h"

#include <doctest/doctest.h>

#include <cmath>

namespace frontend_nn_AttentionMaskTest {

using namespace weft;

namespace {

Array uniform(std::vector<int64_t> shape, int64_t seed, DType dt = DType::F64) {
  return drawInit(init::uniform(-1.0, 1.0), dt, shape, seed).take();
}

std::vector<Array> runInterpreter(const Graph &g, const std::vector<Array> &args) {
  return testing::runForward(g, args, testing::Backends::Interpreter)[0].results;
}

} // namespace

TEST_CASE("scaledDotProductAttention: keys past a length get exactly zero weight and each row "
          "sums to 1") {
  constexpr int64_t B = 2, Lq = 3, Lk = 5, D = 4;
  Graph g("sdpa");
  Tensor q = g.input("q", {B, Lq, D}, DType::F64);
  Tensor k = g.input("k", {B, Lk, D}, DType::F64);
  Tensor v = g.input("v", {B, Lk, D}, DType::F64);
  Tensor len = g.input("len", {B}, DType::I32);
  Tensor mask = reshape(nn::keyPaddingMask(len, Lk, DType::F64), {B, 1, Lk});
  nn::AttentionOutput a = nn::scaledDotProductAttention(q, k, v, mask);
  g.outputs({a.weights, a.output});
  std::vector<int32_t> lengths{2, 5};
  auto out = runInterpreter(g, {uniform({B, Lq, D}, 1), uniform({B, Lk, D}, 2),
                                uniform({B, Lk, D}, 3), Array::of<int32_t>({B}, lengths)});
  const Array &w = out[0];
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Lq; ++i) {
      double rowSum = 0;
      for (int64_t j = 0; j < Lk; ++j) {
        double wij = w.getDouble((b * Lq + i) * Lk + j);
        CAPTURE(b);
        CAPTURE(j);
        if (j >= lengths[size_t(b)])
          CHECK(wij == 0.0);
        else
          CHECK(wij > 0.0);
        rowSum += wij;
      }
      CHECK(rowSum == doctest::Approx(1.0).epsilon(1e-14));
    }
}

TEST_CASE("a causal TransformerEncoderLayer: the output at t does not depend on inputs after t") {
  constexpr int64_t L = 5, B = 2, E = 4, t = 2;
  Graph g("causal");
  Tensor x = g.input("x", {L, B, E}, DType::F64);
  nn::Scope s(g, nn::Mode::Eval);
  nn::TransformerEncoderLayer layer(
      s, E, 2, nn::TransformerLayerOptions().withDimFeedforward(6).withDType(DType::F64));
  g.output(layer(x, nn::AttentionMasks().withCausal()));
  std::vector<Array> params = g.initParams(5);
  Array x0 = uniform({L, B, E}, 6);
  // x1: x0 with every position after t changed.
  Array x1 = x0;
  for (int64_t i = (t + 1) * B * E; i < x1.numel(); ++i)
    x1.setDouble(i, x1.getDouble(i) + 0.5);
  Array y0 = runInterpreter(g, g.arguments({x0}, params))[0];
  Array y1 = runInterpreter(g, g.arguments({x1}, params))[0];
  for (int64_t i = 0; i < (t + 1) * B * E; ++i) {
    CAPTURE(i);
    CHECK(y1.getDouble(i) == doctest::Approx(y0.getDouble(i)).epsilon(1e-14));
  }
  // And the change is visible after t: the test would notice a mask that hides everything.
  double diff = 0;
  for (int64_t i = (t + 1) * B * E; i < y0.numel(); ++i)
    diff += std::fabs(y1.getDouble(i) - y0.getDouble(i));
  CHECK(diff > 1e-3);
}

TEST_CASE("causalMask is 0 on and below the diagonal and -inf above it") {
  Graph g("mask");
  g.output(nn::causalMask(3, 4, DType::F32));
  Array m = runInterpreter(g, {})[0];
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      CAPTURE(i);
      CAPTURE(j);
      double v = m.getDouble(i * 4 + j);
      CHECK((j <= i ? v == 0.0 : (std::isinf(v) && v < 0)));
    }
}

TEST_CASE("sinusoidalPositions: sin at even features, cos at odd, frequency 1/10000^(2i/d)") {
  constexpr int64_t L = 4, D = 6;
  Graph g("pe");
  g.output(nn::sinusoidalPositions(L, D, DType::F64));
  Array pe = runInterpreter(g, {})[0];
  REQUIRE(pe.shape() == std::vector<int64_t>{L, D});
  for (int64_t p = 0; p < L; ++p)
    for (int64_t i = 0; i < D / 2; ++i) {
      double angle = double(p) / std::pow(10000.0, 2.0 * double(i) / double(D));
      CAPTURE(p);
      CAPTURE(i);
      CHECK(pe.getDouble(p * D + 2 * i) == doctest::Approx(std::sin(angle)).epsilon(1e-14));
      CHECK(pe.getDouble(p * D + 2 * i + 1) == doctest::Approx(std::cos(angle)).epsilon(1e-14));
    }
}

} // namespace frontend_nn_AttentionMaskTest
