//===- tests/unit/frontend/seq2seq/SampleDecodeTest.cpp - seeded sampling --===//
#include "DecoderFixture.h"
#include "frontend/seq2seq/BasicDecoder.h"
#include "tests/unit/frontend/nn/RunBackends.h"
#include "tests/unit/frontend/nn/ThrownMessage.h"

#include <doctest/doctest.h>

namespace frontend_seq2seq_SampleDecodeTest {

using namespace weft;

namespace {

constexpr int64_t kVocab = 7, kSteps = 6, kBatch = 5;

/// One graph with a decoder of random weights decoding from h0 three ways: greedily, and by
/// sampling with the seeds in `seeds` at `temperature` (the seed a graph input for the first,
/// constants for the others). Results: the ids of each decode.
std::unique_ptr<ir::Module> decodeGraph(Graph &g, double temperature,
                                        const std::vector<int64_t> &seeds) {
  Dim B = g.dim("B");
  Tensor h0 = g.input("h0", {B, 8});
  Tensor seed = g.input("seed", {}, DType::I64);
  nn::Scope s(g, nn::Mode::Eval);
  seq2seq::Embedding embedding(s.child("embedding"), kVocab, 3);
  seq2seq::StackedCell cell(s.child("cell"), nn::CellKind::GRU, 3, 8);
  seq2seq::Dense out(s.child("out"), 8, kVocab);
  Tensor start = full({B}, 2.0, DType::I64);
  seq2seq::DecodeOptions o{.maximumIterations = kSteps};
  std::vector<Tensor> ids;
  seq2seq::BasicDecoder greedy(cell, seq2seq::GreedyEmbeddingHelper{embedding.table(), start, 3},
                               {h0}, out);
  ids.push_back(seq2seq::dynamicDecode(greedy, o).sampleIds);
  for (size_t k = 0; k < seeds.size(); ++k) {
    seq2seq::SampleEmbeddingHelper h{embedding.table(), start, 3, temperature, seeds[k], {}};
    if (k == 0)
      h.seedTensor = seed;
    ids.push_back(seq2seq::dynamicDecode(seq2seq::BasicDecoder(cell, h, {h0}, out), o).sampleIds);
  }
  g.outputs(ids);
  return g.build();
}

std::vector<Array> arguments(const Graph &g, int64_t seed) {
  std::vector<float> h0;
  for (int64_t i = 0; i < kBatch * 8; ++i)
    h0.push_back(static_cast<float>((i * 37) % 17) / 8.0f - 1.0f);
  return g.arguments({Array::of<float>({kBatch, 8}, h0), Array::of<int64_t>({}, {seed})},
                     testing::paramValues(g));
}

} // namespace

TEST_CASE("sampling is reproducible from its seed, on every backend, and seeds differ") {
  Graph g("sample");
  // Seeds: the input (11 below), 11 as a constant, 12.
  auto m = decodeGraph(g, /*temperature=*/2.0, {0, 11, 12});
  auto results = testing::runBackends(*m, arguments(g, 11), {{"B", kBatch}});
  const std::vector<Array> &ref = results.at("interpreter").at("sample");
  auto fromInput = testing::columns(ref[1]), same = testing::columns(ref[2]),
       other = testing::columns(ref[3]);
  CHECK(fromInput == same);
  CHECK(fromInput != other);
  // At temperature 2 over 7 tokens, some draw leaves the greedy path.
  CHECK(fromInput != testing::columns(ref[0]));
  const std::vector<Array> &jit = results.at("jit").at("sample");
  for (size_t k = 0; k < 4; ++k) {
    CAPTURE(k);
    CHECK(testing::columns(jit[k]) == testing::columns(ref[k]));
  }
  // Running again gives the same samples.
  auto again =
      testing::runBackends(*m, arguments(g, 11), {{"B", kBatch}}, testing::RunOn::InterpreterOnly);
  CHECK(testing::columns(again.at("interpreter").at("sample")[1]) == fromInput);
}

TEST_CASE("sampling at a temperature near 0 chooses the greedy tokens") {
  Graph g("cold");
  auto m = decodeGraph(g, /*temperature=*/1e-5, {0, 1, 2});
  auto results = testing::runBackends(*m, arguments(g, 99), {{"B", kBatch}});
  for (auto &[backend, fns] : results) {
    CAPTURE(backend);
    const std::vector<Array> &r = fns.at("cold");
    for (size_t k = 1; k < 4; ++k) {
      CAPTURE(k);
      CHECK(testing::columns(r[k]) == testing::columns(r[0]));
    }
  }
}

TEST_CASE("sampling refuses a temperature of 0") {
  Graph g("zero");
  Dim B = g.dim("B");
  nn::Scope s(g, nn::Mode::Eval);
  seq2seq::Embedding embedding(s.child("embedding"), kVocab, 3);
  seq2seq::StackedCell cell(s.child("cell"), nn::CellKind::GRU, 3, 8);
  seq2seq::Dense out(s.child("out"), 8, kVocab);
  seq2seq::SampleEmbeddingHelper h{embedding.table(), full({B}, 2.0, DType::I64), 3, 0.0, 1, {}};
  seq2seq::BasicDecoder decoder(cell, h, cell.zeroState(B), out);
  std::string msg =
      testing::thrownMessage([&] { seq2seq::dynamicDecode(decoder, {.maximumIterations = 3}); });
  CHECK(msg.find("SampleDecodeTest.cpp:") != std::string::npos);
  CHECK(msg.find("temperature must be above 0, got 0") != std::string::npos);
}

} // namespace frontend_seq2seq_SampleDecodeTest
