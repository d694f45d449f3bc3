#include "frontend/nn/Scope.h"

#include "frontend/Weft.h"

#include <doctest/doctest.h>

namespace frontend_nn_ScopeTest {

using namespace weft;

TEST_CASE("nn scopes name parameters as PyTorch's state_dict does") {
  Graph g("scoped");
  nn::Scope root(g, nn::Mode::Train);
  nn::Scope lstm = root.child("encoder").child("lstm");
  CHECK(lstm.prefix() == "encoder.lstm");
  lstm.param("weight_ih_l0", {8, 4}, init::zeros());
  root.param("bias", {3}, init::zeros());
  REQUIRE(g.params().size() == 2);
  CHECK(g.params()[0].name == "encoder.lstm.weight_ih_l0");
  CHECK(g.params()[1].name == "bias");
  CHECK(lstm.training());
  CHECK_FALSE(nn::Scope(g, nn::Mode::Eval).training());
}

TEST_CASE("nn scopes refuse a parameter declared twice and names with dots") {
  Graph g("scoped");
  nn::Scope fc = nn::Scope(g, nn::Mode::Eval).child("fc");
  fc.param("weight", {2, 2}, init::zeros());
  CHECK_THROWS_WITH_AS(fc.param("weight", {2, 2}, init::zeros()),
                       doctest::Contains("parameter 'fc.weight' is declared twice"), Error);
  CHECK_THROWS_WITH_AS(fc.child("a.b"), doctest::Contains("holds a '.'"), Error);
  CHECK_THROWS_WITH_AS(fc.param("", {1}, init::zeros()), doctest::Contains("must not be empty"),
                       Error);
}

TEST_CASE("nn scope buffers are named state: listed with the params, not trainable") {
  Graph g("buffers");
  nn::Scope bn = nn::Scope(g, nn::Mode::Train).child("bn");
  bn.param("weight", {3}, init::ones());
  Tensor rm = bn.buffer("running_mean", {3}, init::zeros());
  CHECK(rm.type().shapeStr() == "[3]");
  REQUIRE(g.params().size() == 2);
  CHECK(g.params()[1].name == "bn.running_mean");
  CHECK_FALSE(g.params()[1].trainable);
  CHECK(g.trainableNames() == std::vector<std::string>{"bn.weight"});
  CHECK_THROWS_WITH_AS(bn.buffer("weight", {3}, init::zeros()),
                       doctest::Contains("parameter 'bn.weight' is declared twice"), Error);
}

} // namespace frontend_nn_ScopeTest
