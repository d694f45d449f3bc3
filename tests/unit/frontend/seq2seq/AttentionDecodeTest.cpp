//===- tests/unit/frontend/seq2seq/AttentionDecodeTest.cpp - a BasicDecoder with attention ===//
//
// DecoderAttention (TF1's AttentionWrapper with an attention layer) in a BasicDecoder over a
// memory [B, Tm, D] with Bahdanau scoring: the memory is read up to each example's length and
// no further; the greedy `while` and the teacher-forced `scan` run the same step, attention
// state included. Beam search over it: AttentionBeamSearchTest.cpp.
//
//===----------------------------------------------------------------------===//
#include "DecoderFixture.h"
#include "frontend/nn/attention/BahdanauAttention.h"
#include "frontend/seq2seq/BasicDecoder.h"
#include "tests/unit/frontend/nn/RunBackends.h"

#include <doctest/doctest.h>

namespace frontend_seq2seq_AttentionDecodeTest {

using namespace weft;

namespace {

constexpr int64_t kVocab = 6, kEmbed = 3, kHidden = 4, kDepth = 2, kTm = 3, kT = 4;

/// The parts of the decoder of the file comment over `memory` and `lengths`, built once per
/// graph; decoder() puts them together with a helper.
struct AttentionParts {
  seq2seq::DecoderAttention attention;
  seq2seq::StackedCell cell;
  seq2seq::Dense out;
  seq2seq::State initial;

  AttentionParts(const nn::Scope &s, const Tensor &memory, const Tensor &lengths)
      : attention(s.child("attention"),
                  std::make_shared<nn::BahdanauAttention>(s.child("attention"), kHidden, memory,
                                                          lengths, kHidden),
                  kHidden),
        cell(s.child("cell"), nn::CellKind::LSTM, kEmbed + kHidden, kHidden, 2),
        out(s.child("out"), kHidden, kVocab) {
    for (int i = 0; i < 4; ++i)
      initial.push_back(zeros({memory.shape()[0], Dim(kHidden)}));
  }
  seq2seq::BasicDecoder decoder(seq2seq::Helper helper) const {
    return seq2seq::BasicDecoder(cell, std::move(helper), initial, out, attention);
  }
};

Array memoryValues(int64_t B, float pastLengths) {
  Array m(DType::F32, {B, kTm, kDepth});
  for (int64_t i = 0; i < m.numel(); ++i)
    m.data<float>()[i] = 0.3f * float(i % 7) - 0.8f;
  // Example 0 has length 2: its position 2 is past its length.
  for (int64_t d = 0; d < kDepth; ++d)
    m.data<float>()[(0 * kTm + 2) * kDepth + d] = pastLengths;
  return m;
}

} // namespace

TEST_CASE("a decoder with attention reads the memory up to each example's length only") {
  Graph g("attend");
  Dim B = g.dim("B");
  Tensor memory = g.input("memory", {B, kTm, kDepth});
  Tensor lengths = g.input("lengths", {B}, DType::I32);
  Tensor targets = g.input("targets", {kT, B}, DType::I64);
  nn::Scope s(g, nn::Mode::Eval);
  seq2seq::Embedding embedding(s.child("embedding"), kVocab, kEmbed);
  seq2seq::TrainingHelper helper{embedding(seq2seq::shiftRight(targets, 2)), {}};
  auto r = seq2seq::dynamicDecode(AttentionParts(s, memory, lengths).decoder(helper));
  g.output(r.logits);
  auto m = g.build();
  Array len = Array::of<int32_t>({2}, {2, 3});
  Array ids = Array::of<int64_t>({kT, 2}, {4, 5, 5, 4, 3, 4, 0, 3});
  auto logits = [&](float pastLengths, const char *backend) {
    auto results = testing::runBackends(
        *m, g.arguments({memoryValues(2, pastLengths), len, ids}, testing::paramValues(g)),
        {{"B", 2}});
    return results.at(backend).at("attend")[0];
  };
  for (const char *backend : {"interpreter", "jit"}) {
    CAPTURE(backend);
    Array a = logits(0.5f, backend), b = logits(-7.0f, backend);
    // Example 0 (column 0 of [T, B, V]) ignores its position 2; example 1 reads it, and its
    // memory there is the same in both runs.
    for (int64_t i = 0; i < a.numel(); ++i)
      CHECK(a.data<float>()[i] == b.data<float>()[i]);
    // Changing a position within the length changes the logits from the first step on.
    Array in = memoryValues(2, 0.5f);
    in.data<float>()[0] += 1.0f; // example 0, position 0
    auto moved =
        testing::runBackends(*m, g.arguments({in, len, ids}, testing::paramValues(g)), {{"B", 2}});
    const Array &c = moved.at(backend).at("attend")[0];
    bool differs = false;
    for (int64_t v = 0; v < kVocab; ++v)
      differs = differs || c.data<float>()[v] != a.data<float>()[v];
    CHECK(differs);
  }
}

TEST_CASE("greedy decoding with attention chooses what teacher forcing on its own tokens "
          "scores highest") {
  Graph g("both");
  Dim B = g.dim("B");
  Tensor memory = g.input("memory", {B, kTm, kDepth});
  Tensor lengths = g.input("lengths", {B}, DType::I32);
  nn::Scope s(g, nn::Mode::Eval);
  seq2seq::Embedding embedding(s.child("embedding"), kVocab, kEmbed);
  seq2seq::GreedyEmbeddingHelper greedy{embedding.table(), full({B}, 2.0, DType::I64), 3};
  AttentionParts parts(s, memory, lengths);
  auto decoded = seq2seq::dynamicDecode(parts.decoder(greedy), {.maximumIterations = kT});
  // The same decoder teacher-forced on the greedy tokens.
  seq2seq::TrainingHelper forced{embedding(seq2seq::shiftRight(decoded.sampleIds, 2)), {}};
  auto scored = seq2seq::dynamicDecode(parts.decoder(forced));
  g.outputs({decoded.sampleIds, scored.sampleIds});
  auto m = g.build();
  auto results =
      testing::runBackends(*m,
                           g.arguments({memoryValues(2, 0.5f), Array::of<int32_t>({2}, {2, 3})},
                                       testing::paramValues(g)),
                           {{"B", 2}});
  for (auto &[backend, fns] : results) {
    CAPTURE(backend);
    auto greedyIds = testing::columns(fns.at("both")[0]);
    auto forcedIds = testing::columns(fns.at("both")[1]);
    for (size_t b = 0; b < 2; ++b)
      for (size_t t = 0; t < static_cast<size_t>(kT); ++t) {
        CAPTURE(b);
        CAPTURE(t);
        CHECK(forcedIds[b][t] == greedyIds[b][t]);
        if (greedyIds[b][t] == 3) // past <EOS> the greedy ids are <PAD>
          break;
      }
  }
}

} // namespace frontend_seq2seq_AttentionDecodeTest
