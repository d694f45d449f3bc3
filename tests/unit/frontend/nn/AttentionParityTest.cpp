//===- tests/unit/frontend/nn/AttentionParityTest.cpp - attention layers vs PyTorch -===//
//
// Weights exported from torch.nn.MultiheadAttention, TransformerEncoderLayer and
// TransformerDecoderLayer (tests/data/nn_attention/make_fixtures.py, eval mode) load by their
// state_dict names into weft's layers, and the outputs match PyTorch's float64 results: in
// float32 on the interpreter and the CPU JIT to 1e-5, in float64 on the interpreter to 1e-12.
//
//===----------------------------------------------------------------------===//
#include "NnFixture.h"
#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "frontend/Weft.h"
#include "frontend/nn/StateDict.h"
#include "frontend/nn/attention/MultiheadAttention.h"
#include "frontend/nn/attention/Transformer.h"
#include "runtime/Safetensors.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <functional>

namespace frontend_nn_AttentionParityTest {

using namespace weft;

namespace {

constexpr int64_t kEmbed = 8, kHeads = 2, kFeedforward = 12;

/// A case's file split into weights (state_dict names), inputs ("in.") and results ("out.").
struct Fixture {
  nn::StateDict weights;
  std::map<std::string, Array> inputs, results;
};

Fixture load(const std::string &name) {
  auto st =
      readSafetensors(std::string(WEFT_TEST_DATA_DIR) + "/nn_attention/" + name + ".safetensors");
  REQUIRE_OK(st);
  Fixture f;
  for (const NamedArray &t : st->tensors) {
    if (t.name.rfind("in.", 0) == 0)
      f.inputs[t.name.substr(3)] = t.array;
    else if (t.name.rfind("out.", 0) == 0)
      f.results[t.name.substr(4)] = t.array;
    else
      f.weights[t.name] = t.array;
  }
  return f;
}

/// Builds the model with `buildModel` (given the root scope and the fixture's inputs, declared
/// in `inputOrder`), runs it in `dt` with the fixture's weights and compares each output with
/// the result of the same name. The CPU JIT (at O0) runs the f32 model too.
void checkCase(
    const std::string &name, DType dt, const std::vector<std::string> &inputOrder,
    const std::vector<std::string> &outputs,
    const std::function<std::vector<Tensor>(nn::Scope &, std::map<std::string, Tensor> &)>
        &buildModel) {
  CAPTURE(name);
  CAPTURE(dtypeName(dt));
  Fixture f = load(name);
  Graph g(name);
  std::map<std::string, Tensor> in;
  std::vector<Array> args;
  for (const std::string &n : inputOrder) {
    const Array &a = f.inputs.at(n);
    Shape shape(a.shape().begin(), a.shape().end());
    bool isFloatInput = isFloat(a.dtype());
    in[n] = g.input(n, shape, isFloatInput ? dt : a.dtype());
    args.push_back(testing::floatsAs(dt, a));
  }
  nn::Scope root(g, nn::Mode::Eval);
  g.outputs(buildModel(root, in));
  auto params = nn::paramsFromStateDict(g, f.weights);
  REQUIRE_OK(params);
  auto m = g.build();
  const ir::Function &fn = *m->functions()[0];
  std::vector<Array> callArgs = g.arguments(args, *params);
  std::vector<testing::BackendResults> runs;
  auto ref = reference::run(fn, callArgs, {});
  REQUIRE_OK(ref);
  runs.push_back({"interpreter", std::move(*ref)});
  if (dt == DType::F32) {
    cpu::CompileOptions options;
    options.optLevel = 0; // compiling, not running, is what costs for models this small
    auto exe = cpu::compile(*m, options);
    REQUIRE_OK(exe);
    auto out = (*exe)->run(fn.name(), callArgs, {});
    REQUIRE_OK(out);
    runs.push_back({"jit", std::move(*out)});
  }
  for (const testing::BackendResults &r : runs) {
    CAPTURE(r.backend);
    REQUIRE(r.results.size() == outputs.size());
    for (size_t i = 0; i < outputs.size(); ++i) {
      CAPTURE(outputs[i]);
      testing::checkClose(r.results[i], f.results.at(outputs[i]), dt);
    }
  }
}

} // namespace

TEST_CASE("nn::MultiheadAttention matches torch: self-attention, sequence-major, causal and "
          "key padding from lengths") {
  for (DType dt : {DType::F32, DType::F64})
    checkCase("mha_self_causal", dt, {"x", "lengths"}, {"output", "weights"},
              [&](nn::Scope &s, std::map<std::string, Tensor> &in) {
                nn::MultiheadAttention mha(s, kEmbed, kHeads,
                                           nn::MultiheadAttentionOptions().withDType(dt));
                auto out = mha(in["x"], in["x"], in["x"],
                               nn::AttentionMasks().withCausal().withKeyLengths(in["lengths"]));
                return std::vector<Tensor>{out.output, out.weights};
              });
}

TEST_CASE("nn::MultiheadAttention matches torch: cross-attention, batch_first, Lq != Lk, key "
          "padding") {
  for (DType dt : {DType::F32, DType::F64})
    checkCase(
        "mha_cross_batch_first", dt, {"q", "k", "v", "lengths"}, {"output", "weights"},
        [&](nn::Scope &s, std::map<std::string, Tensor> &in) {
          nn::MultiheadAttention mha(
              s, kEmbed, kHeads, nn::MultiheadAttentionOptions().withBatchFirst().withDType(dt));
          auto out =
              mha(in["q"], in["k"], in["v"], nn::AttentionMasks().withKeyLengths(in["lengths"]));
          return std::vector<Tensor>{out.output, out.weights};
        });
}

TEST_CASE("nn::TransformerEncoderLayer matches torch in eval mode: post-norm relu and pre-norm "
          "gelu, causal and padding masks") {
  struct Variant {
    const char *name;
    nn::TransformerLayerOptions options;
  };
  for (const Variant &v : {Variant{"encoder_post_norm", {}},
                           Variant{"encoder_pre_norm_gelu",
                                   nn::TransformerLayerOptions().withNormFirst().withActivation(
                                       nn::FeedForwardActivation::Gelu)}})
    for (DType dt : {DType::F32, DType::F64})
      checkCase(v.name, dt, {"x", "lengths"}, {"output"},
                [&](nn::Scope &s, std::map<std::string, Tensor> &in) {
                  nn::TransformerLayerOptions o = v.options;
                  o.withDimFeedforward(kFeedforward).withDType(dt);
                  nn::TransformerEncoderLayer layer(s, kEmbed, kHeads, o);
                  return std::vector<Tensor>{layer(
                      in["x"], nn::AttentionMasks().withCausal().withKeyLengths(in["lengths"]))};
                });
}

TEST_CASE("nn::TransformerDecoderLayer matches torch in eval mode: post-norm and pre-norm, "
          "causal target mask and memory padding") {
  for (auto [name, normFirst] : {std::pair{"decoder_post_norm", false}, {"decoder_pre_norm", true}})
    for (DType dt : {DType::F32, DType::F64})
      checkCase(name, dt, {"tgt", "memory", "lengths"}, {"output"},
                [&](nn::Scope &s, std::map<std::string, Tensor> &in) {
                  auto o = nn::TransformerLayerOptions()
                               .withDimFeedforward(kFeedforward)
                               .withNormFirst(normFirst)
                               .withDType(dt);
                  nn::TransformerDecoderLayer layer(s, kEmbed, kHeads, o);
                  return std::vector<Tensor>{
                      layer(in["tgt"], in["memory"], nn::AttentionMasks().withCausal(),
                            nn::AttentionMasks().withKeyLengths(in["lengths"]))};
                });
}

} // namespace frontend_nn_AttentionParityTest
