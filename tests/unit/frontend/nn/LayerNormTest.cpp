//===- tests/unit/frontend/nn/LayerNormTest.cpp - nn::layerNorm -----------===//
#include "frontend/nn/LayerNorm.h"

#include "NnFixture.h"

#include <doctest/doctest.h>

namespace frontend_nn_LayerNormTest {

using namespace weft;
using testing::nnFixture;

TEST_CASE("nn::layerNorm over the last two dims computes torch.nn.LayerNorm's output and "
          "gradients") {
  auto fx = [](const char *name) { return nnFixture("layernorm", name); };
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtypeName(dt));
    Graph g("layernorm");
    nn::Scope ln = nn::Scope(g, nn::Mode::Train).child("ln");
    Tensor x = g.input("x", {2, 3, 5}, dt);
    Tensor r = g.input("r", {2, 3, 5}, dt);
    Tensor y = nn::layerNorm(ln, x, {3, 5});
    g.outputs({testing::dotWith(y, r), y});
    REQUIRE(g.params().size() == 2);
    CHECK(g.params()[0].name == "ln.weight");
    CHECK(g.params()[1].name == "ln.bias");
    std::vector<Array> args =
        g.arguments({testing::floatsAs(dt, fx("in_x")), testing::floatsAs(dt, fx("r"))},
                    {testing::floatsAs(dt, fx("in_weight")), testing::floatsAs(dt, fx("in_bias"))});
    for (const auto &[backend, got] : testing::runWithGradients(g, {"x", "ln.weight", "ln.bias"},
                                                                args, testing::backendsFor(dt))) {
      CAPTURE(std::string(backend));
      testing::checkClose(got[1], fx("y"), dt);
      testing::checkClose(got[2], fx("grad_x"), dt);
      testing::checkClose(got[3], fx("grad_weight"), dt);
      testing::checkClose(got[4], fx("grad_bias"), dt);
    }
  }
}

} // namespace frontend_nn_LayerNormTest
