//===- tests/unit/frontend/nn/ActivationsTest.cpp - gelu, elu, selu, softplus, leakyRelu -===//
#include "frontend/nn/Activations.h"

#include "NnFixture.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>

namespace frontend_nn_ActivationsTest {

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
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtypeName(dt));
    // One graph for all: activation k reads its own copy x_k, so d loss / d x_k is its gradient.
    Graph g("activations");
    Tensor loss;
    std::vector<Tensor> ys;
    std::vector<std::string> wrt;
    std::vector<Array> args;
    for (const auto &[name, fn] : activations) {
      Tensor x = g.input("x_" + name, {4, 6}, dt);
      Tensor r = g.input("r_" + name, {4, 6}, dt);
      ys.push_back(fn(x));
      Tensor l = testing::dotWith(ys.back(), r);
      loss = loss.valid() ? add(loss, l) : l;
      wrt.push_back("x_" + name);
      args.push_back(testing::floatsAs(dt, fx("in_x")));
      args.push_back(testing::floatsAs(dt, fx("r_" + name)));
    }
    g.output(loss);
    g.outputs(ys);
    for (const auto &[backend, got] :
         testing::runWithGradients(g, wrt, args, testing::backendsFor(dt))) {
      CAPTURE(std::string(backend));
      for (size_t k = 0; k < activations.size(); ++k) {
        const std::string &name = activations[k].first;
        CAPTURE(name);
        testing::checkClose(got[1 + k], fx("y_" + name), dt);
        testing::checkClose(got[1 + activations.size() + k], fx("grad_" + name), dt);
      }
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

TEST_CASE("nn::leakyRelu is x above 0 and slope x below; a slope outside [0, 1) is an error") {
  Graph g("leaky");
  Tensor x = g.input("x", {4}, DType::F64);
  g.output(nn::leakyRelu(x, 0.2));
  Array y = testing::runForward(g, {Array::of<double>({4}, {-2.0, -0.5, 0.0, 3.0})},
                                testing::Backends::Interpreter)[0]
                .results[0];
  CHECK(y.getDouble(0) == doctest::Approx(-0.4).epsilon(1e-15));
  CHECK(y.getDouble(1) == doctest::Approx(-0.1).epsilon(1e-15));
  CHECK(y.getDouble(2) == 0.0);
  CHECK(y.getDouble(3) == 3.0);
  CHECK_THROWS_WITH_AS(nn::leakyRelu(x, 1.5), doctest::Contains("negative_slope must be in [0, 1)"),
                       Error);
}

} // namespace frontend_nn_ActivationsTest
