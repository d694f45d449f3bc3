//===- tests/unit/frontend/nn/ActivationsTest.cpp - gelu, elu, selu, softplus -===//
#include "frontend/nn/Activations.h"

#include "NnFixture.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>

using namespace weft;
using testing::nnFixture;

TEST_CASE("nn activations compute torch.nn.functional's values and gradients") {
  auto fx = [](const std::string &name) { return nnFixture("activations", name); };
  const std::vector<std::pair<std::string, std::function<Tensor(const Tensor &)>>> activations{
      {"gelu", [](const Tensor &x) { return nn::gelu(x); }},
      {"gelu_tanh", [](const Tensor &x) { return nn::gelu(x, nn::GeluApprox::Tanh); }},
      {"elu", [](const Tensor &x) { return nn::elu(x, 0.7); }},
      {"selu", [](const Tensor &x) { return nn::selu(x); }},
      {"softplus", [](const Tensor &x) { return nn::softplus(x); }},
  };
  for (DType dt : {DType::F32, DType::F64})
    for (const auto &[name, fn] : activations) {
      CAPTURE(dtypeName(dt));
      CAPTURE(name);
      Graph g(name);
      Tensor x = g.input("x", {4, 6}, dt);
      Tensor r = g.input("r", {4, 6}, dt);
      Tensor y = fn(x);
      g.outputs({testing::dotWith(y, r), y});
      std::vector<Array> args = {testing::floatsAs(dt, fx("in_x")),
                                 testing::floatsAs(dt, fx("r_" + name))};
      for (const auto &[backend, got] : testing::runWithGradients(g, {"x"}, args)) {
        CAPTURE(std::string(backend));
        testing::checkClose(got[1], fx("y_" + name), dt);
        testing::checkClose(got[2], fx("grad_" + name), dt);
      }
    }
}

TEST_CASE("elu, selu and softplus stay finite, with finite gradients, far from 0") {
  Graph g("extremes");
  Tensor x = g.input("x", {4});
  Tensor y = concat({nn::elu(x), nn::selu(x), nn::softplus(x)}, 0);
  g.outputs({sum(y, {0}), y});
  Array in = Array::of<float>({4}, {-200.f, -90.f, 90.f, 200.f});
  for (const auto &[backend, got] : testing::runWithGradients(g, {"x"}, {in})) {
    CAPTURE(std::string(backend));
    for (int64_t i = 0; i < 12; ++i)
      CHECK(std::isfinite(got[1].getDouble(i)));
    for (int64_t i = 0; i < 4; ++i)
      CHECK(std::isfinite(got[2].getDouble(i)));
    CHECK(got[1].getDouble(11) == 200.0); // softplus(200) = 200 in f32
  }
}

TEST_CASE("selu uses the constants of Klambauer et al.") {
  CHECK(nn::kSeluAlpha == 1.6732632423543772848170429916717);
  CHECK(nn::kSeluLambda == 1.0507009873554804934193349852946);
}
