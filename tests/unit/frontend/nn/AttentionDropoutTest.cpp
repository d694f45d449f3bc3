//===- tests/unit/frontend/nn/AttentionDropoutTest.cpp - dropout on attention weights -===//
//
// Dropout acts on the attention weights, between the softmax and the product with the values,
// in training mode only: with p = 1 every weight is dropped, so nn::MultiheadAttention returns
// out_proj.bias at every position, while in eval mode the same layer does not.
//
//===----------------------------------------------------------------------===//
#include "NnFixture.h"
#include "frontend/Weft.h"
#include "frontend/nn/attention/MultiheadAttention.h"

#include <doctest/doctest.h>

namespace frontend_nn_AttentionDropoutTest {

using namespace weft;

TEST_CASE("MultiheadAttention with dropout 1 in training returns out_proj.bias everywhere; in "
          "eval mode it attends") {
  constexpr int64_t L = 3, B = 2, E = 4;
  for (nn::Mode mode : {nn::Mode::Train, nn::Mode::Eval}) {
    bool training = mode == nn::Mode::Train;
    CAPTURE(training);
    Graph g("mha_dropout");
    Tensor x = g.input("x", {L, B, E}, DType::F64);
    Tensor seed = g.input("seed", {}, DType::I64);
    nn::Scope s = nn::Scope(g, mode).withSeed(seed);
    nn::MultiheadAttention mha(
        s.child("mha"), E, 2,
        nn::MultiheadAttentionOptions().withDropout(1.0).withDType(DType::F64));
    g.output(mha(x, x, x).output);
    std::vector<Array> params = g.initParams(3);
    // out_proj.bias: nonzero, so that the check cannot pass by accident.
    size_t biasIndex = 0;
    for (size_t i = 0; i < g.params().size(); ++i)
      if (g.params()[i].name == "mha.out_proj.bias")
        biasIndex = i;
    params[biasIndex] = Array::of<double>({E}, {0.5, -1.0, 2.0, 0.25});
    Array xv = drawInit(init::uniform(-1, 1), DType::F64, {L, B, E}, 4).take();
    Array y = testing::runForward(g, g.arguments({xv, Array::of<int64_t>({}, {9})}, params),
                                  testing::Backends::Interpreter)[0]
                  .results[0];
    int64_t equal = 0;
    for (int64_t i = 0; i < y.numel(); ++i)
      equal += y.getDouble(i) == params[biasIndex].getDouble(i % E);
    CHECK(equal == (training ? y.numel() : 0));
  }
}

} // namespace frontend_nn_AttentionDropoutTest
