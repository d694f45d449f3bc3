#include "frontend/Weft.h"
#include "frontend/nn/Recurrent.h"
#include "tests/unit/RandomVectors.h"

#include <doctest/doctest.h>

#include <cmath>

namespace frontend_InitTest {

using namespace weft;

namespace {

struct Moments {
  double mean = 0, stddev = 0, lo = 1e300, hi = -1e300;
};

Moments moments(const Array &a) {
  Moments m;
  for (int64_t i = 0; i < a.numel(); ++i) {
    double v = a.getDouble(i);
    m.mean += v;
    m.lo = std::min(m.lo, v);
    m.hi = std::max(m.hi, v);
  }
  m.mean /= double(a.numel());
  for (int64_t i = 0; i < a.numel(); ++i)
    m.stddev += (a.getDouble(i) - m.mean) * (a.getDouble(i) - m.mean);
  m.stddev = std::sqrt(m.stddev / double(a.numel()));
  return m;
}

} // namespace

TEST_CASE("xavier values lie within the Glorot bound and fill it") {
  Graph g("init");
  g.param("W", {200, 100}, init::xavier());
  std::vector<Array> ps = g.initParams(1);
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].shape() == std::vector<int64_t>{200, 100});
  double bound = std::sqrt(6.0 / 300.0);
  Moments m = moments(ps[0]);
  CHECK(m.lo >= -bound);
  CHECK(m.hi < bound);
  CHECK(m.hi > 0.95 * bound);
  CHECK(m.lo < -0.95 * bound);
  CHECK(std::abs(m.mean) < 0.01);
}

TEST_CASE("he and lecun standard deviations follow fan_in") {
  Graph g("init");
  g.param("He", {128, 300}, init::he());
  g.param("Lecun", {512, 100}, init::lecun());
  g.param("N", {1000}, init::normal(0.5));
  std::vector<Array> ps = g.initParams(3);
  CHECK(moments(ps[0]).stddev == doctest::Approx(std::sqrt(2.0 / 128)).epsilon(0.05));
  CHECK(moments(ps[1]).stddev == doctest::Approx(std::sqrt(1.0 / 512)).epsilon(0.05));
  CHECK(moments(ps[2]).stddev == doctest::Approx(0.5).epsilon(0.08));
}

TEST_CASE("constant, zeros and uniform initializers") {
  Graph g("init");
  g.param("c", {3}, init::constant(2.5));
  g.param("z", {2, 2}, init::zeros(), DType::F64);
  g.param("u", {500}, init::uniform(2.0, 3.0));
  std::vector<Array> ps = g.initParams(0);
  CHECK(ps[0].getDouble(2) == 2.5);
  CHECK(ps[1].dtype() == DType::F64);
  CHECK(ps[1].getDouble(3) == 0.0);
  Moments m = moments(ps[2]);
  CHECK(m.lo >= 2.0);
  CHECK(m.hi < 3.0);
}

TEST_CASE("initializers scale the independently computed random vectors, element i on counter i") {
  // [100, 100]: fan_in = fan_out = 100, and counters up to 9999.
  const double glorot = std::sqrt(6.0 / 200), heStd = std::sqrt(2.0 / 100);
  for (const testing::RandomVector &v : testing::kRandomVectors) {
    CAPTURE(v.seed);
    CAPTURE(v.counter);
    auto i = static_cast<int64_t>(v.counter);
    auto draw = [&](Init init) {
      auto a = drawInit(init, DType::F64, {100, 100}, v.seed);
      REQUIRE(a.isOk());
      return a->getDouble(i);
    };
    CHECK(draw(init::uniform(-3.0, 5.0)) == -3.0 + 8.0 * v.uniformF64);
    CHECK(draw(init::xavier()) == -glorot + 2 * glorot * v.uniformF64);
    CHECK(testing::sameNormal(draw(init::normal(0.5)), 0.5 * v.normalF64, /*isF32=*/false));
    CHECK(testing::sameNormal(draw(init::he()), heStd * v.normalF64, /*isF32=*/false));
  }
}

TEST_CASE("initParams is deterministic per seed and differs across seeds and params") {
  Graph g("init");
  g.param("A", {4, 4}, init::xavier());
  g.param("B", {4, 4}, init::xavier());
  std::vector<Array> a = g.initParams(42), b = g.initParams(42), c = g.initParams(43);
  for (int64_t i = 0; i < 16; ++i) {
    CAPTURE(i);
    CHECK(a[0].getDouble(i) == b[0].getDouble(i));
  }
  CHECK(a[0].getDouble(0) != c[0].getDouble(0));
  CHECK(a[0].getDouble(0) != a[1].getDouble(0));
}

TEST_CASE("initParams rejects symbolic parameter shapes and integer random params") {
  Graph g("init");
  g.param("W", {g.dim("H"), 4}, init::xavier());
  CHECK_THROWS_WITH_AS(g.initParams(1), doctest::Contains("symbolic shape [H, 4]"), Error);
  Graph h("init2");
  h.param("I", {4}, init::xavier(), DType::I32);
  CHECK_THROWS_WITH_AS(h.initParams(1), doctest::Contains("needs a float dtype"), Error);
}

TEST_CASE("arguments interleaves inputs and params in function order") {
  Graph g("args");
  g.input("x", {1});
  g.param("w", {1}, init::constant(3));
  g.input("y", {1});
  std::vector<Array> args =
      g.arguments({Array::of<float>({1}, {1.f}), Array::of<float>({1}, {2.f})}, g.initParams(0));
  REQUIRE(args.size() == 3);
  CHECK(args[0].getDouble(0) == 1.0);
  CHECK(args[1].getDouble(0) == 3.0);
  CHECK(args[2].getDouble(0) == 2.0);
}

TEST_CASE("xavier normal, he uniform and lecun follow their fans in both layouts") {
  // InOut [..., fan_in, fan_out] against PyTorch's OutIn [out, in, k...]: a [100, 400] weight
  // has fan_in 100 in the first and 400 in the second; a [64, 16, 3, 3] conv kernel has
  // fan_in 16 * 9 = 144 and fan_out 64 * 9 = 576 in PyTorch's.
  Graph g("fans");
  g.param("xn", {100, 400}, init::xavierNormal());
  g.param("hu", {100, 400}, init::heUniform());
  g.param("hu_torch", {100, 400}, init::heUniform().outIn());
  g.param("lecun_torch", {100, 400}, init::lecun().outIn());
  g.param("conv_xavier", {64, 16, 3, 3}, init::xavierNormal().outIn());
  std::vector<Array> ps = g.initParams(11);
  CHECK(moments(ps[0]).stddev == doctest::Approx(std::sqrt(2.0 / 500)).epsilon(0.03));
  Moments hu = moments(ps[1]);
  CHECK(hu.hi < std::sqrt(6.0 / 100));
  CHECK(hu.hi > 0.99 * std::sqrt(6.0 / 100));
  Moments huTorch = moments(ps[2]);
  CHECK(huTorch.hi < std::sqrt(6.0 / 400));
  CHECK(huTorch.lo > -std::sqrt(6.0 / 400));
  CHECK(huTorch.hi > 0.99 * std::sqrt(6.0 / 400));
  CHECK(moments(ps[3]).stddev == doctest::Approx(std::sqrt(1.0 / 400)).epsilon(0.03));
  CHECK(moments(ps[4]).stddev == doctest::Approx(std::sqrt(2.0 / (144 + 576))).epsilon(0.03));
}

TEST_CASE("the InOut layout stays the default: existing initializers draw what they drew") {
  auto a = drawInit(init::he(), DType::F64, {30, 50}, 4);
  auto b = drawInit(init::normal(std::sqrt(2.0 / 30)), DType::F64, {30, 50}, 4);
  REQUIRE(a.isOk());
  REQUIRE(b.isOk());
  for (int64_t i = 0; i < 1500; i += 37)
    CHECK(a->getDouble(i) == b->getDouble(i));
}

namespace {

/// max |(A^T A)_ij - gain^2 delta_ij| over the columns of A [rows, cols] (rows >= cols), or
/// of A^T when rows < cols.
double orthogonalityError(const Array &a, int64_t rows, int64_t cols, double gain) {
  bool tall = rows >= cols;
  int64_t n = tall ? cols : rows, len = tall ? rows : cols;
  auto at = [&](int64_t vec, int64_t k) {
    return tall ? a.getDouble(k * cols + vec) : a.getDouble(vec * cols + k);
  };
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (int64_t k = 0; k < len; ++k)
        dot += at(i, k) * at(j, k);
      worst = std::max(worst, std::abs(dot - (i == j ? gain * gain : 0.0)));
    }
  return worst;
}

} // namespace

TEST_CASE("orthogonal matrices have orthonormal columns (tall) or rows (wide), times the gain") {
  struct Case {
    std::vector<int64_t> shape;
    double gain;
  };
  for (const Case &c :
       {Case{{64, 16}, 1.0}, Case{{16, 64}, 1.0}, Case{{32, 32}, 2.0}, Case{{8, 2, 3}, 1.0}}) {
    CAPTURE(c.shape.size());
    CAPTURE(c.shape[0]);
    auto w = drawInit(init::orthogonal(c.gain), DType::F32, c.shape, 3);
    REQUIRE(w.isOk());
    int64_t rows = c.shape[0], cols = w->numel() / rows;
    CHECK(orthogonalityError(*w, rows, cols, c.gain) < 1e-5 * c.gain * c.gain);
    // Not an identity or another fixed matrix: a random draw.
    CHECK(std::abs(w->getDouble(0)) < c.gain);
    CHECK(w->getDouble(0) != w->getDouble(cols + 1));
  }
  auto vec = drawInit(init::orthogonal(), DType::F32, {5}, 0);
  REQUIRE_FALSE(vec.isOk());
  CHECK(vec.diag().message.find("rank 2 or more") != std::string::npos);
}

TEST_CASE("PyTorch's per-layer defaults") {
  CHECK(init::torchLinear(16).kind == Init::Kind::Uniform);
  CHECK(init::torchLinear(16).a == -0.25);
  CHECK(init::torchLinear(16).b == 0.25);
  CHECK(init::torchRecurrent(100).b == doctest::Approx(0.1));
  CHECK(init::torchEmbedding().a == 1.0);
  CHECK(init::torchNormWeight().a == 1.0);
  CHECK(init::torchNormBias().a == 0.0);
  auto e = drawInit(init::torchEmbedding(2), DType::F32, {4, 3}, 1);
  REQUIRE(e.isOk());
  for (int64_t j = 0; j < 3; ++j) {
    CHECK(e->getDouble(2 * 3 + j) == 0.0);
    CHECK(e->getDouble(1 * 3 + j) != 0.0);
  }
  auto bad = drawInit(init::torchEmbedding(4), DType::F32, {4, 3}, 1);
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.diag().message.find("no row 4") != std::string::npos);
}

TEST_CASE("an LSTM forget-gate bias is zeros with the forget gate's rows at the value") {
  auto b = drawInit(init::lstmForgetBias(3, 1.0), DType::F32, {12}, 5);
  REQUIRE(b);
  for (int64_t i = 0; i < 12; ++i)
    CHECK(b->getDouble(i) == (i >= 3 && i < 6 ? 1.0 : 0.0));
  // Rows of a drawn initializer are overwritten after drawing; rows that do not fit are refused.
  auto w = drawInit(init::uniform(-1, 1).withRows(1, 2, 7.0), DType::F64, {3, 2}, 5);
  REQUIRE(w);
  CHECK(w->getDouble(2) == 7.0);
  CHECK(w->getDouble(3) == 7.0);
  CHECK(w->getDouble(0) != 7.0);
  auto bad = drawInit(init::lstmForgetBias(4), DType::F32, {6}, 5);
  REQUIRE_FALSE(bad);
  CHECK(bad.diag().message.find("rows [4, 8) do not fit a first dim of 6") != std::string::npos);
}

TEST_CASE("nn::LSTM withForgetBias starts bias_ih at the forget-gate bias, bias_hh at zeros") {
  Graph g("lstm");
  Dim B = g.dim("B");
  Tensor xs = g.input("xs", {5, B, 2});
  nn::Scope s(g, nn::Mode::Train);
  nn::LSTM lstm(s.child("rnn"), 2, 3, nn::RecurrentOptions().withForgetBias(1.0));
  g.output(lstm(xs).h_n);
  std::vector<Array> ps = g.initParams(1);
  REQUIRE(g.params().size() == 4);
  CHECK(g.params()[2].name == "rnn.bias_ih_l0");
  for (int64_t i = 0; i < 12; ++i) {
    CHECK(ps[2].getDouble(i) == (i >= 3 && i < 6 ? 1.0 : 0.0));
    CHECK(ps[3].getDouble(i) == 0.0);
  }
  Graph h("gru");
  Tensor ys = h.input("xs", {5, B, 2});
  nn::Scope t(h, nn::Mode::Train);
  CHECK_THROWS_WITH_AS(nn::GRU(t.child("gru"), 2, 3, nn::RecurrentOptions().withForgetBias()),
                       doctest::Contains("withForgetBias() applies to nn.LSTM only"), Error);
  (void)ys;
}

} // namespace frontend_InitTest
