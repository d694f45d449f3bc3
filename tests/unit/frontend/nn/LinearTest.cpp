//===- tests/unit/frontend/nn/LinearTest.cpp - nn::linear vs nn.Linear ----===//
#include "frontend/nn/Linear.h"

#include "NnFixture.h"

#include <doctest/doctest.h>

#include <cmath>

namespace frontend_nn_LinearTest {

using namespace weft;
using testing::nnFixture;

TEST_CASE("nn::linear computes torch.nn.Linear's output and gradients over leading dims") {
  auto fx = [](const char *name) { return nnFixture("linear", name); };
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtypeName(dt));
    Graph g("linear");
    nn::Scope fc = nn::Scope(g, nn::Mode::Train).child("fc");
    Tensor x = g.input("x", {2, 3, 4}, dt);
    Tensor r = g.input("r", {2, 3, 5}, dt);
    Tensor y = nn::linear(fc, x, 4, 5);
    g.outputs({testing::dotWith(y, r), y});
    REQUIRE(g.params().size() == 2);
    CHECK(g.params()[0].name == "fc.weight");
    CHECK(g.params()[0].type.shapeStr() == "[5, 4]");
    CHECK(g.params()[1].name == "fc.bias");
    std::vector<Array> args =
        g.arguments({testing::floatsAs(dt, fx("in_x")), testing::floatsAs(dt, fx("r"))},
                    {testing::floatsAs(dt, fx("in_weight")), testing::floatsAs(dt, fx("in_bias"))});
    for (const auto &[backend, got] : testing::runWithGradients(g, {"x", "fc.weight", "fc.bias"},
                                                                args, testing::backendsFor(dt))) {
      CAPTURE(std::string(backend));
      testing::checkClose(got[1], fx("y"), dt);
      testing::checkClose(got[2], fx("grad_x"), dt);
      testing::checkClose(got[3], fx("grad_weight"), dt);
      testing::checkClose(got[4], fx("grad_bias"), dt);
    }
  }
}

TEST_CASE("nn::linear takes a rank-1 input as one row and can leave out the bias") {
  Graph g("linear1");
  nn::Scope s(g, nn::Mode::Eval);
  Tensor x = g.input("x", {3});
  Tensor y =
      nn::linear(s, x, 3, 2, nn::LinearOptions().withoutBias().withWeightInit(init::constant(0.5)));
  CHECK(y.type().shapeStr() == "[2]");
  g.output(y);
  REQUIRE(g.params().size() == 1);
  std::vector<Array> args = g.arguments({Array::of<float>({3}, {1.f, 2.f, 3.f})}, g.initParams(0));
  for (const auto &[backend, got] : testing::runForward(g, args)) {
    CAPTURE(std::string(backend));
    CHECK(got[0].getDouble(0) == 3.0);
    CHECK(got[0].getDouble(1) == 3.0);
  }
}

TEST_CASE("nn::linear's default initializer is PyTorch's U(-1/sqrt(in), 1/sqrt(in))") {
  Graph g("linear_init");
  nn::Scope s(g, nn::Mode::Train);
  nn::linear(s, g.input("x", {8, 64}), 64, 100);
  std::vector<Array> ps = g.initParams(5);
  for (const Array &p : ps) {
    double lo = 1, hi = -1;
    for (int64_t i = 0; i < p.numel(); ++i) {
      lo = std::min(lo, p.getDouble(i));
      hi = std::max(hi, p.getDouble(i));
    }
    CHECK(lo >= -0.125);
    CHECK(hi < 0.125);
    CHECK(lo < -0.11); // the bound is reached: 1/sqrt(64), not a smaller scale
    CHECK(hi > 0.11);
  }
}

} // namespace frontend_nn_LinearTest
