//===- tests/unit/frontend/nn/AttentionGradCheckTest.cpp - attention layers vs finite differences
//-===//
//
// Each attention layer in f64, its autodiff gradients (inputs and every parameter) against
// central differences on the reference interpreter (tests/unit/autodiff/GradCheck.h), with its
// masks on: the loss is sum(y * r) for a random r.
//
//===----------------------------------------------------------------------===//
#include "frontend/Weft.h"
#include "frontend/nn/attention/AttentionWrapper.h"
#include "frontend/nn/attention/BahdanauAttention.h"
#include "frontend/nn/attention/GraphAttention.h"
#include "frontend/nn/attention/LuongAttention.h"
#include "frontend/nn/attention/MultiheadAttention.h"
#include "frontend/nn/attention/PositionalEncoding.h"
#include "frontend/nn/attention/Transformer.h"
#include "ir/Printer.h"
#include "tests/unit/autodiff/GradCheck.h"

#include <doctest/doctest.h>

namespace frontend_nn_AttentionGradCheckTest {

using namespace weft;

namespace {

constexpr DType f64 = DType::F64;

/// Outputs sum(y * r) with r a new input of y's shape.
void outputDot(Graph &g, const Tensor &y) {
  Tensor r = g.input("r", y.shape(), f64);
  Axes all;
  for (int64_t i = 0; i < y.rank(); ++i)
    all.push_back(i);
  g.output(sum(mul(y, r), all));
}

/// Checks the gradients of g's loss with respect to `inputs` and every trainable parameter.
void check(const Graph &g, std::vector<std::string> inputs,
           std::map<std::string, Array> fixed = {}) {
  for (const std::string &p : g.trainableNames())
    inputs.push_back(p);
  testing::checkGradients({ir::print(*g.build()), inputs, -1.0, 1.0, std::move(fixed)});
}

Array lengths(std::vector<int64_t> l) {
  auto n = static_cast<int64_t>(l.size());
  return Array::of<int64_t>({n}, l);
}

} // namespace

TEST_CASE("MultiheadAttention with causal and key-padding masks: gradients match finite "
          "differences") {
  Graph g("mha");
  Tensor x = g.input("x", {3, 2, 4}, f64);
  Tensor len = g.input("len", {2}, DType::I64);
  nn::Scope s(g, nn::Mode::Eval);
  nn::MultiheadAttention mha(s.child("mha"), 4, 2, nn::MultiheadAttentionOptions().withDType(f64));
  auto out = mha(x, x, x, nn::AttentionMasks().withCausal().withKeyLengths(len));
  outputDot(g, out.output);
  check(g, {"x"}, {{"len", lengths({3, 2})}});
}

TEST_CASE("TransformerEncoderLayer (post-norm, positions added) and TransformerDecoderLayer "
          "(pre-norm): gradients match finite differences") {
  Graph g("transformer");
  Tensor src = g.input("src", {3, 2, 4}, f64);
  Tensor tgt = g.input("tgt", {2, 2, 4}, f64);
  Tensor len = g.input("len", {2}, DType::I64);
  nn::Scope s(g, nn::Mode::Eval);
  auto o = nn::TransformerLayerOptions().withDimFeedforward(5).withDType(f64);
  nn::TransformerEncoderLayer enc(s.child("enc"), 4, 2, o);
  nn::TransformerDecoderLayer dec(s.child("dec"), 4, 2, o.withNormFirst());
  Tensor memory = enc(nn::addPositions(src), nn::AttentionMasks().withKeyLengths(len));
  outputDot(g, dec(tgt, memory, nn::AttentionMasks().withCausal(),
                   nn::AttentionMasks().withKeyLengths(len)));
  check(g, {"src", "tgt"}, {{"len", lengths({3, 1})}});
}

TEST_CASE("AttentionWrapper over a scan (Bahdanau with an LSTM, Luong scaled with a GRU and an "
          "attention layer): gradients match finite differences") {
  for (bool bahdanau : {true, false}) {
    CAPTURE(bahdanau);
    Graph g("attention_decoder");
    Tensor memory = g.input("memory", {2, 4, 3}, f64);
    Tensor len = g.input("len", {2}, DType::I64);
    Tensor xs = g.input("xs", {3, 2, 2}, f64);
    nn::Scope s(g, nn::Mode::Eval);
    constexpr int64_t H = 3;
    std::shared_ptr<nn::AttentionMechanism> mech;
    nn::AttentionWrapperOptions o;
    if (bahdanau) {
      mech = std::make_shared<nn::BahdanauAttention>(s.child("att"), 4, memory, len, H);
    } else {
      mech = std::make_shared<nn::LuongAttention>(s.child("att"), memory, len, H, true);
      o.withAttentionLayerSize(2);
    }
    int64_t a = o.attentionLayerSize.value_or(3);
    nn::WrappedCell cell = bahdanau
                               ? nn::WrappedCell(nn::LSTMCell(s.child("cell"), 2 + a, H, true, f64))
                               : nn::WrappedCell(nn::GRUCell(s.child("cell"), 2 + a, H, true,
                                                             nn::GruReset::AfterMatmul, f64));
    nn::AttentionWrapper wrapper(s.child("dec"), cell, mech, o);
    nn::AttentionWrapperSequence seq = wrapper.unroll(xs, wrapper.zeroState());
    outputDot(g, seq.outputs);
    check(g, {"memory", "xs"}, {{"len", lengths({4, 2})}});
  }
}

TEST_CASE("graphAttention, two heads concatenated then averaged: gradients match finite "
          "differences") {
  Graph g("gat");
  Tensor x = g.input("x", {4, 3}, f64);
  Tensor adj = g.input("adj", {4, 4}, DType::I1);
  nn::Scope s(g, nn::Mode::Eval);
  Tensor h =
      nn::graphAttention(s.child("gat1"), x, adj, 3, 2, nn::GraphAttentionOptions().withHeads(2));
  h = nn::graphAttention(s.child("gat2"), h, adj, 4, 2,
                         nn::GraphAttentionOptions().withHeads(2).withMeanOfHeads());
  outputDot(g, h);
  std::vector<bool> edges{0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0};
  Array a(DType::I1, {4, 4});
  for (int64_t i = 0; i < 16; ++i)
    a.setDouble(i, edges[size_t(i)] ? 1.0 : 0.0);
  check(g, {"x"}, {{"adj", a}});
}

} // namespace frontend_nn_AttentionGradCheckTest
