//===- tests/unit/frontend/nn/StateDictTest.cpp - loading named weights -----===//
#include "frontend/nn/StateDict.h"

#include "frontend/Weft.h"
#include "frontend/nn/Scope.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

namespace frontend_nn_StateDictTest {

using namespace weft;

namespace {

/// A graph with parameters "fc.weight" [2, 3] (f64) and "fc.bias" [2] (f32).
struct Fc {
  Graph g{"fc"};
  Fc() {
    nn::Scope fc = nn::Scope(g, nn::Mode::Eval).child("fc");
    fc.param("weight", {2, 3}, init::zeros(), DType::F64);
    fc.param("bias", {2}, init::zeros());
  }
};

} // namespace

TEST_CASE("nn state dicts load by name into the graph's parameter order, converting floats") {
  Fc m;
  nn::StateDict sd{{"fc.bias", Array::of<float>({2}, {7, 8})},
                   {"fc.weight", Array::of<float>({2, 3}, {1, 2, 3, 4, 5, 6.5f})}};
  auto params = nn::paramsFromStateDict(m.g, sd);
  REQUIRE_OK(params);
  REQUIRE(params->size() == 2);
  CHECK((*params)[0].dtype() == DType::F64);
  CHECK((*params)[0].shape() == std::vector<int64_t>{2, 3});
  CHECK((*params)[0].getDouble(5) == 6.5);
  CHECK((*params)[1].dtype() == DType::F32);
  CHECK((*params)[1].getDouble(1) == 8.0);
}

TEST_CASE("nn state dicts that do not match say what is missing, unexpected or misshapen") {
  Fc m;
  nn::StateDict sd{{"fc.weight", Array::of<float>({3, 2}, {1, 2, 3, 4, 5, 6})},
                   {"fc.weigth", Array::of<float>({2}, {1, 2})}};
  auto params = nn::paramsFromStateDict(m.g, sd);
  REQUIRE_FALSE(params.isOk());
  std::string msg = params.diag().message;
  CAPTURE(msg);
  CHECK(msg.find("state dict does not match graph 'fc'") != std::string::npos);
  CHECK(msg.find("'fc.weight': the state dict has shape [3, 2], the parameter [2, 3]") !=
        std::string::npos);
  CHECK(msg.find("missing 'fc.bias' (tensor<2 x f32>)") != std::string::npos);
  CHECK(msg.find("unexpected 'fc.weigth'") != std::string::npos);
}

TEST_CASE("nn state dicts refuse integer values for float parameters") {
  Fc m;
  nn::StateDict sd{{"fc.weight", Array::of<int64_t>({2, 3}, {1, 2, 3, 4, 5, 6})},
                   {"fc.bias", Array::of<float>({2}, {1, 2})}};
  auto params = nn::paramsFromStateDict(m.g, sd);
  REQUIRE_FALSE(params.isOk());
  CHECK(params.diag().message.find(
            "'fc.weight': the state dict has dtype i64, the parameter f64") != std::string::npos);
}

} // namespace frontend_nn_StateDictTest
