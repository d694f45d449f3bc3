//===- tests/unit/frontend/nn/TransformerDecoderMaskTest.cpp - the dates Transformer's masks ===//
//
// A TransformerDecoderLayer as examples/transformer_dates.cpp calls it (causal self-attention,
// attention over the memory masked by the source lengths), after the `optimize` pipeline that
// fuses every attention into one `attention` op, on the interpreter and the JIT: the output at
// position t depends neither on the target after t nor on memory positions past the example's
// length, and does depend on both within them (so a mask that hides everything fails too).
//
//===----------------------------------------------------------------------===//
#include "RunBackends.h"
#include "frontend/Weft.h"
#include "frontend/nn/attention/Transformer.h"
#include "ir/Walk.h"
#include "passes/PassManager.h"

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

namespace frontend_nn_TransformerDecoderMaskTest {

using namespace weft;

namespace {

constexpr int64_t Lt = 4, Ls = 5, B = 2, E = 4, t = 1;
const int32_t kLengths[B] = {3, 5};

Array uniform(std::vector<int64_t> shape, int64_t seed) {
  return drawInit(init::uniform(-1.0, 1.0), DType::F32, shape, seed).take();
}

struct Layer {
  Graph g{"decoder"};
  std::unique_ptr<ir::Module> module;
  std::vector<Array> params;

  Layer() {
    Tensor tgt = g.input("tgt", {Lt, B, E});
    Tensor memory = g.input("memory", {Ls, B, E});
    Tensor lengths = g.input("lengths", {B}, DType::I32);
    nn::Scope s(g, nn::Mode::Eval);
    nn::TransformerDecoderLayer layer(
        s, E, 2, nn::TransformerLayerOptions().withDimFeedforward(6).withDropout(0.0));
    g.output(layer(tgt, memory, nn::AttentionMasks().withCausal(),
                   nn::AttentionMasks().withKeyLengths(lengths)));
    params = g.initParams(5);
    module = g.build();
    std::ostringstream log;
    passes::PassManager pm(log);
    pm.addPipeline("optimize").check();
    pm.run(*module).check();
  }

  int attentionOps() const {
    int n = 0;
    for (auto &f : module->functions())
      ir::walk(f->body(), [&](ir::Op &op) { n += op.kind() == ir::OpKind::Attention; });
    return n;
  }

  /// backend -> the output [Lt, B, E].
  std::map<std::string, Array> run(const Array &tgt, const Array &memory) const {
    Array len = Array::of<int32_t>({B}, {kLengths[0], kLengths[1]});
    auto r = testing::runBackends(*module, g.arguments({tgt, memory, len}, params), {});
    std::map<std::string, Array> out;
    for (auto &[backend, fns] : r)
      out[backend] = fns.at("decoder")[0];
    return out;
  }
};

/// The largest |a - b| over the elements of [Lt, B, E] arrays at positions (l, b) with `pick`.
template <class Pick> double largestChange(const Array &a, const Array &b, Pick pick) {
  double d = 0;
  for (int64_t l = 0; l < Lt; ++l)
    for (int64_t b0 = 0; b0 < B; ++b0)
      for (int64_t e = 0; e < E; ++e)
        if (pick(l, b0)) {
          int64_t i = (l * B + b0) * E + e;
          d = std::max(d, std::fabs(double(a.data<float>()[i]) - double(b.data<float>()[i])));
        }
  return d;
}

} // namespace

TEST_CASE("the dates Transformer's decoder layer, fused: the output at t ignores the target "
          "after t") {
  Layer layer;
  REQUIRE(layer.attentionOps() == 2); // self-attention and attention over the memory
  Array tgt = uniform({Lt, B, E}, 6), memory = uniform({Ls, B, E}, 7);
  Array later = tgt;
  for (int64_t i = (t + 1) * B * E; i < later.numel(); ++i)
    later.data<float>()[i] += 0.5f;
  auto y0 = layer.run(tgt, memory), y1 = layer.run(later, memory);
  for (const auto &[backend, a] : y0) {
    CAPTURE(backend);
    const Array &b = y1.at(backend);
    CHECK(largestChange(a, b, [](int64_t l, int64_t) { return l <= t; }) == 0.0);
    CHECK(largestChange(a, b, [](int64_t l, int64_t) { return l > t; }) > 1e-3);
  }
}

TEST_CASE("the dates Transformer's decoder layer, fused: the output ignores the memory past "
          "each example's length") {
  Layer layer;
  Array tgt = uniform({Lt, B, E}, 6), memory = uniform({Ls, B, E}, 7);
  // Example 0 (length 3): its positions 3 and 4 are padding. Example 1 reads all 5.
  Array padding = memory, inside = memory;
  for (int64_t s = kLengths[0]; s < Ls; ++s)
    for (int64_t e = 0; e < E; ++e)
      padding.data<float>()[(s * B + 0) * E + e] += 3.0f;
  for (int64_t e = 0; e < E; ++e)
    inside.data<float>()[(0 * B + 0) * E + e] += 3.0f;
  auto y0 = layer.run(tgt, memory), y1 = layer.run(tgt, padding), y2 = layer.run(tgt, inside);
  for (const auto &[backend, a] : y0) {
    CAPTURE(backend);
    auto all = [](int64_t, int64_t) { return true; };
    CHECK(largestChange(a, y1.at(backend), all) == 0.0);
    CHECK(largestChange(a, y2.at(backend), [](int64_t, int64_t b) { return b == 0; }) > 1e-3);
  }
}

} // namespace frontend_nn_TransformerDecoderMaskTest
