//===- tests/unit/frontend/seq2seq/AttentionBeamSearchTest.cpp - beams with attention ===//
//
// BeamSearchDecoder over a decoder with attention (DecoderAttention over Bahdanau or Luong
// scoring, input feeding): the memory of 3 examples of different source lengths, tiled per beam.
// One beam is greedy decoding; K beams are each scored with the log-probability teacher forcing
// gives their tokens (which fails when a beam reads another beam's attention vector or another
// example's memory); with K = V beams over 2 steps the best beam is the best of all sequences.
//
//===----------------------------------------------------------------------===//
#include "DecoderFixture.h"
#include "frontend/nn/attention/BahdanauAttention.h"
#include "frontend/nn/attention/LuongAttention.h"
#include "frontend/seq2seq/BeamSearchDecoder.h"
#include "tests/unit/frontend/nn/RunBackends.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <set>

namespace frontend_seq2seq_AttentionBeamSearchTest {

using namespace weft;

namespace {

constexpr int64_t kVocab = 6, kEmbed = 3, kHidden = 4, kDepth = 2, kTm = 3, kBatch = 3;
constexpr int64_t kStart = 2, kEnd = 3;

enum class Score { Bahdanau, Luong };
constexpr Score kScores[] = {Score::Bahdanau, Score::Luong};
const char *name(Score s) { return s == Score::Bahdanau ? "bahdanau" : "luong"; }

/// The decoder of AttentionDecodeTest.cpp over `memory` and `lengths`, in the scope named after
/// its score; every graph builds both, in the same order, so that their parameters line up.
struct Model {
  seq2seq::Embedding embedding;
  seq2seq::DecoderAttention attention;
  seq2seq::StackedCell cell;
  seq2seq::Dense out;
  seq2seq::State initial;

  static std::shared_ptr<const nn::AttentionMechanism>
  mechanism(Score score, const nn::Scope &s, const Tensor &memory, const Tensor &lengths) {
    if (score == Score::Bahdanau)
      return std::make_shared<nn::BahdanauAttention>(s, kHidden, memory, lengths, kHidden);
    return std::make_shared<nn::LuongAttention>(s, memory, lengths, kHidden, /*scale=*/true);
  }
  Model(Score score, const nn::Scope &s, const Tensor &memory, const Tensor &lengths)
      : embedding(s.child("embedding"), kVocab, kEmbed),
        attention(s.child("attention"), mechanism(score, s.child("attention"), memory, lengths),
                  kHidden),
        cell(s.child("cell"), nn::CellKind::LSTM, kEmbed + kHidden, kHidden, 2),
        out(s.child("out"), kHidden, kVocab) {
    for (int i = 0; i < 4; ++i)
      initial.push_back(zeros({memory.shape()[0], Dim(kHidden)}));
  }
  seq2seq::BasicDecoder decoder(seq2seq::Helper helper) const {
    return seq2seq::BasicDecoder(cell, std::move(helper), initial, out, attention);
  }
  seq2seq::BasicDecoder greedy() const {
    Dim B = initial[0].shape()[0];
    return decoder(seq2seq::GreedyEmbeddingHelper{embedding.table(),
                                                  full({B}, double(kStart), DType::I64), kEnd});
  }
};

/// A beam search of a graph: `width` beams ranked with length penalty weight `alpha`.
struct Beams {
  int64_t width;
  double alpha;
};

/// For each score: greedy ids and lengths, then each search's ids, scores and lengths.
std::unique_ptr<ir::Module> beamGraph(Graph &g, const std::vector<Beams> &searches, int64_t steps) {
  Dim B = g.dim("B");
  Tensor memory = g.input("memory", {B, kTm, kDepth});
  Tensor lengths = g.input("lengths", {B}, DType::I32);
  std::vector<Tensor> outs;
  for (Score score : kScores) {
    Model m(score, nn::Scope(g, nn::Mode::Eval).child(name(score)), memory, lengths);
    auto r = seq2seq::dynamicDecode(m.greedy(), {.maximumIterations = steps});
    outs.insert(outs.end(), {r.sampleIds, r.lengths});
    for (const Beams &s : searches) {
      auto beams =
          seq2seq::dynamicDecode(seq2seq::BeamSearchDecoder(m.greedy(), s.width, s.alpha), steps);
      outs.insert(outs.end(), {beams.predictedIds, beams.scores, beams.lengths});
    }
  }
  g.outputs(outs);
  return g.build();
}

/// Teacher forcing, for each score: the logits [T, B, V] of `targets` [T, B] i64 with lengths
/// [B] i64.
std::unique_ptr<ir::Module> forcedGraph(Graph &g) {
  Dim B = g.dim("B"), T = g.dim("T");
  Tensor memory = g.input("memory", {B, kTm, kDepth});
  Tensor lengths = g.input("lengths", {B}, DType::I32);
  Tensor targets = g.input("targets", {T, B}, DType::I64);
  Tensor targetLengths = g.input("target_lengths", {B}, DType::I64);
  std::vector<Tensor> outs;
  for (Score score : kScores) {
    Model m(score, nn::Scope(g, nn::Mode::Eval).child(name(score)), memory, lengths);
    seq2seq::TrainingHelper h{m.embedding(seq2seq::shiftRight(targets, kStart)), targetLengths};
    outs.push_back(seq2seq::dynamicDecode(m.decoder(h)).logits);
  }
  g.outputs(outs);
  return g.build();
}

constexpr int32_t kSourceLengths[kBatch] = {2, 3, 1};

/// Memory [R, Tm, D] whose row r is example examples[r]'s; each example's positions from its source
/// length on hold `pastLengths`.
Array memoryValues(const std::vector<int64_t> &examples, float pastLengths) {
  int64_t rows = static_cast<int64_t>(examples.size());
  Array m(DType::F32, {rows, kTm, kDepth});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < kTm; ++t)
      for (int64_t d = 0; d < kDepth; ++d) {
        int64_t b = examples[static_cast<size_t>(r)];
        m.data<float>()[(r * kTm + t) * kDepth + d] =
            t >= kSourceLengths[b] ? pastLengths
                                   : 0.37f * float((b * 5 + t * 3 + d * 7) % 11) - 1.6f;
      }
  return m;
}

Array sourceLengths(const std::vector<int64_t> &examples) {
  std::vector<int32_t> l;
  for (int64_t b : examples)
    l.push_back(kSourceLengths[b]);
  return Array::of<int32_t>({static_cast<int64_t>(examples.size())}, l);
}

const std::vector<int64_t> kExamples{0, 1, 2};

/// Beam k of ids [T, B, K] as [T, B].
Array beamColumn(const Array &ids, int64_t k) {
  int64_t T = ids.shape()[0], B = ids.shape()[1], K = ids.shape()[2];
  Array out(DType::I64, {T, B});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b)
      out.data<int64_t>()[t * B + b] = ids.data<int64_t>()[(t * B + b) * K + k];
  return out;
}

/// The graph's initial parameters scaled by 4: PyTorch's initialization leaves so small a model
/// nearly uniform over the tokens, and its attention vector nearly without effect on them.
std::vector<Array> strongParams(const Graph &g) {
  std::vector<Array> params = testing::paramValues(g);
  for (Array &p : params)
    for (int64_t i = 0; i < p.numel(); ++i)
      p.data<float>()[i] *= 4.0f;
  return params;
}

bool sameBytes(const Array &a, const Array &b) {
  return a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

double penalty(int64_t length, double alpha) {
  return std::pow((5.0 + double(length)) / 6.0, alpha);
}

/// For each score, the log-probability of each row's targets [T, R] (up to its length) under
/// teacher forcing, on the interpreter; row r reads the memory of example examples[r].
std::vector<std::vector<double>> forcedLogProb(const std::vector<Array> &params,
                                               const std::vector<int64_t> &examples,
                                               const Array &targets, const Array &lengths) {
  Graph g("forced");
  auto forced = forcedGraph(g);
  int64_t T = targets.shape()[0], R = targets.shape()[1];
  auto results = testing::runBackends(
      *forced,
      g.arguments({memoryValues(examples, 0.5f), sourceLengths(examples), targets, lengths},
                  params),
      {{"B", R}, {"T", T}}, testing::RunOn::InterpreterOnly);
  std::vector<std::vector<double>> out;
  for (const Array &a : results.at("interpreter").at("forced")) {
    const float *logits = a.data<float>();
    out.emplace_back();
    for (int64_t r = 0; r < R; ++r) {
      double sum = 0;
      for (int64_t t = 0; t < lengths.data<int64_t>()[r]; ++t) {
        const float *row = logits + (t * R + r) * kVocab;
        double z = 0;
        for (int64_t v = 0; v < kVocab; ++v)
          z += std::exp(double(row[v]));
        sum += double(row[targets.data<int64_t>()[t * R + r]]) - std::log(z);
      }
      out.back().push_back(sum);
    }
  }
  return out;
}

std::vector<Array> runBeams(const ir::Module &m, const Graph &g, const std::vector<Array> &params,
                            float pastLengths, const char *backend) {
  auto results = testing::runBackends(
      m, g.arguments({memoryValues(kExamples, pastLengths), sourceLengths(kExamples)}, params),
      {{"B", kBatch}},
      std::string(backend) == "jit" ? testing::RunOn::InterpreterAndJit
                                    : testing::RunOn::InterpreterOnly);
  return results.at(backend).at("beam");
}

} // namespace

TEST_CASE("beam search with one beam over an attention decoder is its greedy decoding") {
  Graph g("beam");
  auto m = beamGraph(g, {{1, 0.6}}, 5);
  auto results = testing::runBackends(
      *m, g.arguments({memoryValues(kExamples, 0.5f), sourceLengths(kExamples)}, strongParams(g)),
      {{"B", kBatch}});
  for (auto &[backend, fns] : results) {
    CAPTURE(backend);
    const std::vector<Array> &r = fns.at("beam");
    for (size_t s = 0; s < 2; ++s) {
      std::string score = name(kScores[s]);
      CAPTURE(score);
      const Array *o = &r[s * 5];
      CHECK(testing::columns(beamColumn(o[2], 0)) == testing::columns(o[0]));
      for (int64_t b = 0; b < kBatch; ++b)
        CHECK(o[4].data<int64_t>()[b] == o[1].data<int64_t>()[b]);
    }
  }
}

TEST_CASE("beam search with attention scores every beam with its tokens' log-probability, best "
          "first, reading each example's memory up to its length only") {
  constexpr int64_t K = 3, kSteps = 5;
  const std::vector<Beams> searches{{K, 0.0}, {K, 1.0}};
  const size_t perScore = 2 + 3 * searches.size();
  Graph g("beam");
  auto m = beamGraph(g, searches, kSteps);
  std::vector<Array> params = strongParams(g);
  std::vector<Array> r = runBeams(*m, g, params, 0.5f, "interpreter");
  // The memory past each source length is masked: moving it moves nothing.
  std::vector<Array> moved = runBeams(*m, g, params, -7.0f, "interpreter");
  for (size_t i = 0; i < r.size(); ++i)
    CHECK(sameBytes(moved[i], r[i]));

  for (size_t s = 0; s < 2; ++s)
    for (size_t c = 0; c < searches.size(); ++c) {
      std::string score = name(kScores[s]);
      CAPTURE(score);
      double alpha = searches[c].alpha;
      CAPTURE(alpha);
      const Array &ids = r[s * perScore + 2 + 3 * c], &scores = r[s * perScore + 3 + 3 * c],
                  &lengths = r[s * perScore + 4 + 3 * c];
      for (int64_t b = 0; b < kBatch; ++b) {
        CAPTURE(b);
        std::set<std::vector<int64_t>> distinct;
        for (int64_t k = 0; k < K; ++k) {
          auto beam = testing::columns(beamColumn(ids, k))[static_cast<size_t>(b)];
          int64_t len = lengths.data<int64_t>()[b * K + k];
          // Ends at its end token or at the last step, <PAD> after.
          CHECK((beam[static_cast<size_t>(len - 1)] == kEnd || len == kSteps));
          for (int64_t t = len; t < kSteps; ++t)
            CHECK(beam[static_cast<size_t>(t)] == 0);
          distinct.insert(beam);
        }
        CHECK(distinct.size() == K);
        for (int64_t k = 1; k < K; ++k) {
          auto ranked = [&](int64_t j) {
            return scores.data<float>()[b * K + j] /
                   penalty(lengths.data<int64_t>()[b * K + j], alpha);
          };
          CHECK(ranked(k - 1) >= ranked(k));
        }
      }
      // Teacher forcing on every beam's tokens (row b*K + k), untiled, gives back its score.
      Array targets(DType::I64, {kSteps, kBatch * K}), len(DType::I64, {kBatch * K});
      std::vector<int64_t> examples;
      for (int64_t b = 0; b < kBatch; ++b)
        for (int64_t k = 0; k < K; ++k) {
          examples.push_back(b);
          len.data<int64_t>()[b * K + k] = lengths.data<int64_t>()[b * K + k];
          for (int64_t t = 0; t < kSteps; ++t)
            targets.data<int64_t>()[t * kBatch * K + b * K + k] =
                ids.data<int64_t>()[(t * kBatch + b) * K + k];
        }
      std::vector<double> logp = forcedLogProb(params, examples, targets, len)[s];
      for (int64_t row = 0; row < kBatch * K; ++row) {
        CAPTURE(row);
        CHECK(scores.data<float>()[row] ==
              doctest::Approx(logp[static_cast<size_t>(row)]).epsilon(1e-5));
      }
    }
}

TEST_CASE("beam search with as many beams as tokens finds the best of all two-step sequences") {
  // Every first token is a beam after step 1, so step 2 ranks every sequence of length <= 2:
  // <EOS> alone, or any token but <EOS> then any token.
  constexpr double alpha = 1.0;
  Graph g("beam");
  auto m = beamGraph(g, {{kVocab, alpha}}, 2);
  std::vector<Array> params = strongParams(g);
  std::vector<Array> r = runBeams(*m, g, params, 0.5f, "interpreter");
  std::vector<std::vector<int64_t>> sequences{{kEnd}};
  for (int64_t a = 0; a < kVocab; ++a)
    for (int64_t c = 0; a != kEnd && c < kVocab; ++c)
      sequences.push_back({a, c});
  int64_t n = static_cast<int64_t>(sequences.size()), rows = kBatch * n;
  std::vector<int64_t> examples;
  Array targets(DType::I64, {2, rows}), lengths(DType::I64, {rows});
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t s = 0; s < n; ++s) {
      int64_t row = b * n + s;
      const auto &seq = sequences[static_cast<size_t>(s)];
      examples.push_back(b);
      for (size_t t = 0; t < seq.size(); ++t)
        targets.data<int64_t>()[static_cast<int64_t>(t) * rows + row] = seq[t];
      lengths.data<int64_t>()[row] = static_cast<int64_t>(seq.size());
    }
  std::vector<std::vector<double>> logp = forcedLogProb(params, examples, targets, lengths);
  for (size_t s = 0; s < 2; ++s) {
    std::string score = name(kScores[s]);
    CAPTURE(score);
    const Array *o = &r[s * 5];
    for (int64_t b = 0; b < kBatch; ++b) {
      CAPTURE(b);
      auto ranked = [&](int64_t q) {
        return logp[s][static_cast<size_t>(b * n + q)] /
               penalty(static_cast<int64_t>(sequences[static_cast<size_t>(q)].size()), alpha);
      };
      int64_t best = 0;
      for (int64_t q = 1; q < n; ++q)
        if (ranked(q) > ranked(best))
          best = q;
      std::vector<int64_t> expected = sequences[static_cast<size_t>(best)];
      expected.resize(2, 0);
      CHECK(testing::columns(beamColumn(o[2], 0))[static_cast<size_t>(b)] == expected);
      CHECK(o[3].data<float>()[b * kVocab] / penalty(o[4].data<int64_t>()[b * kVocab], alpha) ==
            doctest::Approx(ranked(best)).epsilon(1e-5));
    }
  }
}

} // namespace frontend_seq2seq_AttentionBeamSearchTest
