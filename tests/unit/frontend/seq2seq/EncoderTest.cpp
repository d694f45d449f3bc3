//===- tests/unit/frontend/seq2seq/EncoderTest.cpp - encoder state to decoder ===//
#include "frontend/seq2seq/Encoder.h"

#include "DecoderFixture.h"
#include "tests/unit/frontend/nn/RunBackends.h"
#include "tests/unit/frontend/nn/ThrownMessage.h"

#include <doctest/doctest.h>

namespace frontend_seq2seq_EncoderTest {

using namespace weft;

namespace {

constexpr int64_t kH = 3, kB = 2, kT = 4;

/// Element (k, b, j) of a [L*D, B, H] final state.
float at(const Array &n, int64_t k, int64_t b, int64_t j) {
  return n.data<float>()[(k * kB + b) * kH + j];
}

} // namespace

TEST_CASE("a stacked bidirectional encoder's final state starts the decoder, layer by layer, "
          "directions concatenated or summed") {
  Graph g("bridge");
  Dim B = g.dim("B");
  Tensor xs = g.input("xs", {Dim(kT), B, 2});
  nn::Scope s(g, nn::Mode::Eval);
  nn::LSTM encoder(s.child("encoder"), 2, kH, nn::RecurrentOptions().layers(2).bidir());
  nn::RecurrentOutputs e = encoder(xs);
  seq2seq::State concat = seq2seq::decoderInitialState(encoder, e, seq2seq::Merge::Concat);
  seq2seq::State summed = seq2seq::decoderInitialState(encoder, e, seq2seq::Merge::Sum);
  REQUIRE(concat.size() == 4);
  REQUIRE(summed.size() == 4);
  CHECK(seq2seq::mergedSize(encoder, seq2seq::Merge::Concat) == 2 * kH);
  CHECK(seq2seq::mergedSize(encoder, seq2seq::Merge::Sum) == kH);
  std::vector<Tensor> outs{e.h_n, e.c_n};
  outs.insert(outs.end(), concat.begin(), concat.end());
  outs.insert(outs.end(), summed.begin(), summed.end());
  outs.push_back(seq2seq::contextVector(encoder, e, seq2seq::Merge::Concat));
  g.outputs(outs);
  auto m = g.build();
  std::vector<float> x;
  for (int64_t i = 0; i < kT * kB * 2; ++i)
    x.push_back(static_cast<float>(i % 5) / 2.0f - 1.0f);
  auto results = testing::runBackends(
      *m, g.arguments({Array::of<float>({kT, kB, 2}, x)}, testing::paramValues(g)), {{"B", kB}});
  for (auto &[backend, fns] : results) {
    CAPTURE(backend);
    const std::vector<Array> &r = fns.at("bridge");
    const Array &hn = r[0], &cn = r[1];
    for (int64_t layer = 0; layer < 2; ++layer)
      for (int64_t part = 0; part < 2; ++part) { // h, then c
        CAPTURE(layer);
        CAPTURE(part);
        const Array &n = part == 0 ? hn : cn;
        const Array &cat = r[2 + layer * 2 + part], &sum = r[6 + layer * 2 + part];
        REQUIRE(cat.shape() == std::vector<int64_t>{kB, 2 * kH});
        REQUIRE(sum.shape() == std::vector<int64_t>{kB, kH});
        for (int64_t b = 0; b < kB; ++b)
          for (int64_t j = 0; j < kH; ++j) {
            float fwd = at(n, layer * 2, b, j), bwd = at(n, layer * 2 + 1, b, j);
            CHECK(cat.data<float>()[b * 2 * kH + j] == fwd);
            CHECK(cat.data<float>()[b * 2 * kH + kH + j] == bwd);
            CHECK(sum.data<float>()[b * kH + j] == doctest::Approx(fwd + bwd).epsilon(1e-6));
          }
      }
    // The context vector is the top layer's h.
    const Array &context = r[10];
    for (int64_t i = 0; i < kB * 2 * kH; ++i)
      CHECK(context.data<float>()[i] == r[4].data<float>()[i]);
  }
}

TEST_CASE("a SimpleRNN encoder has no decoder state to hand over") {
  Graph g("rnn");
  Tensor xs = g.input("xs", {3, 2, 2});
  nn::Scope s(g, nn::Mode::Eval);
  nn::RNN encoder(s.child("encoder"), 2, kH);
  nn::RecurrentOutputs e = encoder(xs);
  std::string msg = testing::thrownMessage([&] { seq2seq::decoderInitialState(encoder, e); });
  CHECK(msg.find("EncoderTest.cpp:") != std::string::npos);
  CHECK(msg.find("must be an nn::LSTM or nn::GRU") != std::string::npos);
}

} // namespace frontend_seq2seq_EncoderTest
