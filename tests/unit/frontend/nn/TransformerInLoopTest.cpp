//===- tests/unit/frontend/nn/TransformerInLoopTest.cpp - layers built once, run in a loop -===//
//
// A Transformer layer declares every parameter when it is built, so a greedy decoder can build
// it outside its `while` and call it inside the body (parameters cannot be declared there).
// The loop's result is the layer's result outside it, and the parameters come in the order of
// PyTorch's state_dict.
//
//===----------------------------------------------------------------------===//
#include "NnFixture.h"
#include "frontend/Control.h"
#include "frontend/Weft.h"
#include "frontend/nn/attention/Transformer.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace frontend_nn_TransformerInLoopTest {

using namespace weft;

namespace {

constexpr int64_t L = 3, S = 4, B = 2, D = 4, Heads = 2;

Array uniform(std::vector<int64_t> shape, int64_t seed) {
  return drawInit(init::uniform(-1.0, 1.0), DType::F64, shape, seed).take();
}

nn::TransformerLayerOptions options() {
  return nn::TransformerLayerOptions().withDimFeedforward(6).withDropout(0.0).withDType(DType::F64);
}

/// Runs `g` (inputs tgt, mem, then its parameters) on the interpreter.
std::vector<Array> run(const Graph &g) {
  std::vector<Array> inputs{uniform({L, B, D}, 1), uniform({S, B, D}, 2)};
  return testing::runForward(g, g.arguments(inputs, g.initParams(3)),
                             testing::Backends::Interpreter)[0]
      .results;
}

std::vector<std::string> paramNames(const Graph &g) {
  std::vector<std::string> names;
  for (const ParamInfo &p : g.params())
    names.push_back(p.name);
  return names;
}

} // namespace

TEST_CASE("TransformerDecoderLayer: built outside a loop, called in its body, as outside it") {
  Graph g("decoder_in_loop");
  Tensor tgt = g.input("tgt", {L, B, D}, DType::F64);
  Tensor mem = g.input("mem", {S, B, D}, DType::F64);
  nn::Scope s(g, nn::Mode::Eval);
  nn::TransformerDecoderLayer layer(s.child("layer"), D, Heads, options());
  nn::AttentionMasks causal = nn::AttentionMasks().withCausal();
  Tensor outside = layer(tgt, mem, causal);
  auto [inside, steps] = scan(zeros({1, 1}, DType::F64), {tgt}, [&](Tensor, Tensor y) {
    return carry(layer(y, mem, causal)).emit(zeros({1}, DType::F64));
  });
  g.outputs({outside, inside});
  std::vector<Array> r = run(g);
  REQUIRE(r.size() == 2);
  for (int64_t i = 0; i < r[0].numel(); ++i)
    CHECK(r[1].getDouble(i) == doctest::Approx(r[0].getDouble(i)).epsilon(1e-12));
}

TEST_CASE("TransformerEncoderLayer: built outside a loop, called in its body") {
  Graph g("encoder_in_loop");
  Tensor tgt = g.input("tgt", {L, B, D}, DType::F64);
  g.input("mem", {S, B, D}, DType::F64);
  nn::Scope s(g, nn::Mode::Eval);
  nn::TransformerEncoderLayer layer(s.child("layer"), D, Heads, options());
  Tensor outside = layer(tgt);
  auto [inside, steps] = scan(zeros({1, 1}, DType::F64), {tgt}, [&](Tensor, Tensor y) {
    return carry(layer(y)).emit(zeros({1}, DType::F64));
  });
  g.outputs({outside, inside});
  std::vector<Array> r = run(g);
  REQUIRE(r.size() == 2);
  for (int64_t i = 0; i < r[0].numel(); ++i)
    CHECK(r[1].getDouble(i) == doctest::Approx(r[0].getDouble(i)).epsilon(1e-12));
}

TEST_CASE("Transformer layers declare their parameters when built, in the state_dict's order") {
  Graph g("declared");
  nn::Scope s(g, nn::Mode::Eval);
  nn::TransformerDecoderLayer layer(s.child("layer"), D, Heads, options());
  std::vector<std::string> want;
  for (const char *attn : {"self_attn", "multihead_attn"})
    for (const char *p : {"in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"})
      want.push_back(fmt::format("layer.{}.{}", attn, p));
  for (const char *p :
       {"linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight",
        "norm1.bias", "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias"})
    want.push_back(fmt::format("layer.{}", p));
  CHECK(paramNames(g) == want);
}

} // namespace frontend_nn_TransformerInLoopTest
