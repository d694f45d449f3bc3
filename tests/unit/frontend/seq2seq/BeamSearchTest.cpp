//===- tests/unit/frontend/seq2seq/BeamSearchTest.cpp - beams, scores, order ===//
//
// A GRU decoder with random weights, decoded greedily and by beam search from one initial
// state; teacher forcing on each beam's tokens recomputes its log-probability.
//
//===----------------------------------------------------------------------===//
#include "DecoderFixture.h"
#include "frontend/seq2seq/BeamSearchDecoder.h"
#include "tests/unit/frontend/nn/RunBackends.h"
#include "tests/unit/frontend/nn/ThrownMessage.h"

#include <doctest/doctest.h>

#include <cmath>
#include <set>

namespace frontend_seq2seq_BeamSearchTest {

using namespace weft;

namespace {

constexpr int64_t kVocab = 6, kSteps = 5, kBatch = 4, kBeams = 3;

struct Model {
  seq2seq::Embedding embedding;
  seq2seq::StackedCell cell;
  seq2seq::Dense out;
  Tensor h0;
  explicit Model(Graph &g)
      : embedding(nn::Scope(g, nn::Mode::Eval).child("embedding"), kVocab, 3),
        cell(nn::Scope(g, nn::Mode::Eval).child("cell"), nn::CellKind::GRU, 3, 8),
        out(nn::Scope(g, nn::Mode::Eval).child("out"), 8, kVocab) {}
};

/// Greedy ids and lengths; beam width 1 ids and lengths; beam width kBeams ids, scores,
/// lengths with length penalty weight `alpha`.
std::unique_ptr<ir::Module> beamGraph(Graph &g, double alpha) {
  Dim B = g.dim("B");
  Tensor h0 = g.input("h0", {B, 8});
  Model m(g);
  Tensor start = full({B}, 2.0, DType::I64);
  seq2seq::BasicDecoder greedy(
      m.cell, seq2seq::GreedyEmbeddingHelper{m.embedding.table(), start, 3}, {h0}, m.out);
  auto r = seq2seq::dynamicDecode(greedy, {.maximumIterations = kSteps});
  auto one = seq2seq::dynamicDecode(seq2seq::BeamSearchDecoder(greedy, 1, alpha), kSteps);
  auto k = seq2seq::dynamicDecode(seq2seq::BeamSearchDecoder(greedy, kBeams, alpha), kSteps);
  g.outputs(
      {r.sampleIds, r.lengths, one.predictedIds, one.lengths, k.predictedIds, k.scores, k.lengths});
  return g.build();
}

/// Teacher forcing: the logits [T, B, V] of `targets` [T, B] i64 with lengths [B] i64.
std::unique_ptr<ir::Module> forcedGraph(Graph &g) {
  Dim B = g.dim("B"), T = g.dim("T");
  Tensor h0 = g.input("h0", {B, 8});
  Tensor targets = g.input("targets", {T, B}, DType::I64);
  Tensor lengths = g.input("lengths", {B}, DType::I64);
  Model m(g);
  seq2seq::TrainingHelper h{m.embedding(seq2seq::shiftRight(targets, 2)), lengths};
  g.output(seq2seq::dynamicDecode(seq2seq::BasicDecoder(m.cell, h, {h0}, m.out)).logits);
  return g.build();
}

Array initialState() {
  std::vector<float> h0;
  for (int64_t i = 0; i < kBatch * 8; ++i)
    h0.push_back(static_cast<float>((i * 29) % 13) / 4.0f - 1.5f);
  return Array::of<float>({kBatch, 8}, h0);
}

/// Beam k of ids [T, B, K] as [T, B].
Array beamColumn(const Array &ids, int64_t k) {
  int64_t T = ids.shape()[0], B = ids.shape()[1], K = ids.shape()[2];
  Array out(DType::I64, {T, B});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b)
      out.data<int64_t>()[t * B + b] = ids.data<int64_t>()[(t * B + b) * K + k];
  return out;
}

Array lengthColumn(const Array &lengths, int64_t k) {
  int64_t B = lengths.shape()[0], K = lengths.shape()[1];
  Array out(DType::I64, {B});
  for (int64_t b = 0; b < B; ++b)
    out.data<int64_t>()[b] = lengths.data<int64_t>()[b * K + k];
  return out;
}

double penalty(int64_t length, double alpha) {
  return std::pow((5.0 + double(length)) / 6.0, alpha);
}

} // namespace

TEST_CASE("beam search with one beam is greedy decoding") {
  Graph g("beam");
  auto m = beamGraph(g, 0.6);
  auto results = testing::runBackends(*m, g.arguments({initialState()}, testing::paramValues(g)),
                                      {{"B", kBatch}});
  for (auto &[backend, fns] : results) {
    CAPTURE(backend);
    const std::vector<Array> &r = fns.at("beam");
    CHECK(testing::columns(beamColumn(r[2], 0)) == testing::columns(r[0]));
    for (int64_t b = 0; b < kBatch; ++b)
      CHECK(r[3].data<int64_t>()[b] == r[1].data<int64_t>()[b]);
  }
}

TEST_CASE("beam search keeps distinct beams, best first under the length penalty, each scored "
          "with the log-probability of its tokens") {
  for (double alpha : {0.0, 1.0}) {
    CAPTURE(alpha);
    std::vector<Array> params, beamResults;
    {
      Graph g("beam");
      auto m = beamGraph(g, alpha);
      params = testing::paramValues(g);
      beamResults = testing::runBackends(*m, g.arguments({initialState()}, params), {{"B", kBatch}},
                                         testing::RunOn::InterpreterOnly)
                        .at("interpreter")
                        .at("beam");
    }
    const Array &ids = beamResults[4], &scores = beamResults[5], &lengths = beamResults[6];
    for (int64_t b = 0; b < kBatch; ++b) {
      CAPTURE(b);
      std::set<std::vector<int64_t>> distinct;
      for (int64_t k = 0; k < kBeams; ++k)
        distinct.insert(testing::columns(beamColumn(ids, k))[static_cast<size_t>(b)]);
      CHECK(distinct.size() == kBeams);
      for (int64_t k = 1; k < kBeams; ++k) {
        CAPTURE(k);
        auto ranked = [&](int64_t j) {
          return scores.data<float>()[b * kBeams + j] /
                 penalty(lengths.data<int64_t>()[b * kBeams + j], alpha);
        };
        CHECK(ranked(k - 1) >= ranked(k));
      }
    }
    // Teacher forcing on each beam's tokens gives back its score, on both backends.
    Graph g("forced");
    auto forced = forcedGraph(g);
    for (int64_t k = 0; k < kBeams; ++k) {
      CAPTURE(k);
      Array targets = beamColumn(ids, k), len = lengthColumn(lengths, k);
      auto results =
          testing::runBackends(*forced, g.arguments({initialState(), targets, len}, params),
                               {{"B", kBatch}, {"T", kSteps}});
      for (auto &[backend, fns] : results) {
        CAPTURE(backend);
        const float *logits = fns.at("forced")[0].data<float>();
        for (int64_t b = 0; b < kBatch; ++b) {
          CAPTURE(b);
          double sum = 0;
          for (int64_t t = 0; t < len.data<int64_t>()[b]; ++t) {
            const float *row = logits + (t * kBatch + b) * kVocab;
            double z = 0;
            for (int64_t v = 0; v < kVocab; ++v)
              z += std::exp(double(row[v]));
            sum += double(row[targets.data<int64_t>()[t * kBatch + b]]) - std::log(z);
          }
          CHECK(scores.data<float>()[b * kBeams + k] == doctest::Approx(sum).epsilon(1e-5));
        }
      }
    }
  }
}

TEST_CASE("beam search refuses a beam wider than the vocabulary") {
  Graph g("wide");
  Dim B = g.dim("B");
  Model m(g);
  seq2seq::BasicDecoder greedy(
      m.cell, seq2seq::GreedyEmbeddingHelper{m.embedding.table(), full({B}, 2.0, DType::I64), 3},
      m.cell.zeroState(B), m.out);
  std::string msg = testing::thrownMessage([&] { seq2seq::BeamSearchDecoder(greedy, 7); });
  CHECK(msg.find("BeamSearchTest.cpp:") != std::string::npos);
  CHECK(msg.find("the beam width must be in [1, 6] (the vocabulary), got 7") != std::string::npos);
}

} // namespace frontend_seq2seq_BeamSearchTest
