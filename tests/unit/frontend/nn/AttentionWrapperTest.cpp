//===- tests/unit/frontend/nn/AttentionWrapperTest.cpp - a decoder cell with attention -===//
//
// The alignment history of an AttentionWrapper unrolled over a sequence: every step's
// alignments sum to 1 over the memory before the source length and are exactly zero after it;
// the key projection of the memory is built once, before the loop; the wrapper steps like a
// cell; and its mistakes are reported at the caller's line.
//
//===----------------------------------------------------------------------===//
#include "frontend/nn/attention/AttentionWrapper.h"

#include "NnFixture.h"
#include "ThrownMessage.h"
#include "frontend/Weft.h"
#include "frontend/nn/attention/BahdanauAttention.h"
#include "frontend/nn/attention/LuongAttention.h"
#include "ir/Printer.h"

#include <doctest/doctest.h>

namespace frontend_nn_AttentionWrapperTest {

using namespace weft;

namespace {

constexpr int64_t T = 3, B = 3, Tm = 5, Dm = 4, I = 2, H = 6, U = 5, A = 3;

struct Decoder {
  std::unique_ptr<Graph> g = std::make_unique<Graph>("decoder");
  std::shared_ptr<nn::AttentionMechanism> mechanism;
  nn::AttentionWrapperSequence seq;
};

/// memory [B, Tm, Dm] and lengths [B] as inputs, then an attention decoder over xs [T, B, I].
Decoder build(bool bahdanau) {
  Decoder d;
  Graph &g = *d.g;
  Tensor memory = g.input("memory", {B, Tm, Dm}, DType::F64);
  Tensor lengths = g.input("lengths", {B}, DType::I64);
  Tensor xs = g.input("xs", {T, B, I}, DType::F64);
  nn::Scope s(g, nn::Mode::Eval);
  if (bahdanau)
    d.mechanism =
        std::make_shared<nn::BahdanauAttention>(s.child("attention"), U, memory, lengths, H);
  else
    d.mechanism = std::make_shared<nn::LuongAttention>(s.child("attention"), memory, lengths, H,
                                                       /*scale=*/true);
  nn::WrappedCell cell =
      bahdanau ? nn::WrappedCell(nn::LSTMCell(s.child("cell"), I + A, H, true, DType::F64))
               : nn::WrappedCell(nn::GRUCell(s.child("cell"), I + A, H, true,
                                             nn::GruReset::AfterMatmul, DType::F64));
  nn::AttentionWrapper wrapper(s, cell, d.mechanism,
                               nn::AttentionWrapperOptions().withAttentionLayerSize(A));
  d.seq = wrapper.unroll(xs, wrapper.zeroState());
  g.outputs({d.seq.outputs, d.seq.alignmentHistory});
  return d;
}

Array uniform(std::vector<int64_t> shape, int64_t seed) {
  return drawInit(init::uniform(-1.0, 1.0), DType::F64, shape, seed).take();
}

} // namespace

TEST_CASE("AttentionWrapper: each step's alignments sum to 1 over the memory before the source "
          "length and are zero after it (Bahdanau with an LSTM, Luong with a GRU)") {
  for (bool bahdanau : {true, false}) {
    CAPTURE(bahdanau);
    Decoder d = build(bahdanau);
    std::vector<int64_t> lengths{5, 1, 3};
    std::vector<Array> args = d.g->arguments(
        {uniform({B, Tm, Dm}, 1), Array::of<int64_t>({B}, lengths), uniform({T, B, I}, 2)},
        d.g->initParams(3));
    auto out = testing::runForward(*d.g, args, testing::Backends::Interpreter)[0].results;
    CHECK(out[0].shape() == std::vector<int64_t>{T, B, A});
    const Array &history = out[1];
    REQUIRE(history.shape() == std::vector<int64_t>{T, B, Tm});
    for (int64_t t = 0; t < T; ++t)
      for (int64_t b = 0; b < B; ++b) {
        CAPTURE(t);
        CAPTURE(b);
        double rowSum = 0;
        for (int64_t m = 0; m < Tm; ++m) {
          double w = history.getDouble((t * B + b) * Tm + m);
          CHECK((m < lengths[size_t(b)] ? w > 0.0 : w == 0.0));
          rowSum += w;
        }
        CHECK(rowSum == doctest::Approx(1.0).epsilon(1e-14));
      }
  }
}

TEST_CASE("AttentionWrapper: the key projection of the memory is computed once, before the "
          "decoder's scan") {
  for (bool bahdanau : {true, false}) {
    CAPTURE(bahdanau);
    Decoder d = build(bahdanau);
    Tensor keys = bahdanau ? static_cast<nn::BahdanauAttention &>(*d.mechanism).keys()
                           : static_cast<nn::LuongAttention &>(*d.mechanism).keys();
    keys.named("projected_memory");
    std::string ir = ir::print(*d.g->build());
    size_t def = ir.find("%projected_memory = "), loop = ir.find(" = scan carry(");
    REQUIRE(def != std::string::npos);
    REQUIRE(loop != std::string::npos);
    CHECK(def < loop);
  }
}

TEST_CASE("AttentionWrapper: one step takes and returns a cell's state, with the alignments") {
  Graph g("step");
  Tensor memory = g.input("memory", {B, Tm, Dm});
  Tensor lengths = g.input("lengths", {B}, DType::I32);
  Tensor x = g.input("x", {B, I});
  nn::Scope s(g, nn::Mode::Eval);
  auto mech = std::make_shared<nn::LuongAttention>(s.child("attention"), memory, lengths, H);
  nn::AttentionWrapper wrapper(s, nn::LSTMCell(s.child("cell"), I + Dm, H), mech);
  nn::AttentionWrapperStep step = wrapper(x, wrapper.zeroState());
  CHECK(step.output.shape() == Shape{B, Dm});
  CHECK(step.state.h.shape() == Shape{B, H});
  CHECK(step.state.c.shape() == Shape{B, H});
  CHECK(step.state.attention.shape() == Shape{B, Dm});
  CHECK(step.alignments.shape() == Shape{B, Tm});
}

TEST_CASE("AttentionWrapper: a cell whose input size leaves no room for the attention is an "
          "error naming both sizes") {
  Graph g("bad");
  Tensor memory = g.input("memory", {B, Tm, Dm});
  Tensor lengths = g.input("lengths", {B}, DType::I32);
  nn::Scope s(g, nn::Mode::Eval);
  auto mech = std::make_shared<nn::BahdanauAttention>(s.child("attention"), U, memory, lengths, H);
  std::string msg = testing::thrownMessage(
      [&] { nn::AttentionWrapper(s.child("dec"), nn::GRUCell(s.child("cell"), Dm, H), mech); });
  CHECK(msg.find("AttentionWrapperTest.cpp") != std::string::npos);
  CHECK(msg.find("nn.AttentionWrapper 'dec': the cell's input size (4) must be the step input's "
                 "size plus the attention size (4)") != std::string::npos);
  std::string depth =
      testing::thrownMessage([&] { nn::BahdanauAttention(s.child("a2"), U, memory, lengths, 0); });
  CHECK(depth.find("query depth must be positive") != std::string::npos);
}

} // namespace frontend_nn_AttentionWrapperTest
