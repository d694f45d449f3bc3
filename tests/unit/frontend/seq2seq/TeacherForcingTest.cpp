//===- tests/unit/frontend/seq2seq/TeacherForcingTest.cpp - one body, two loops ===//
//
// An encoder-decoder (bidirectional 2-layer LSTM encoder whose final state starts a 2-layer
// LSTM decoder, with a context vector fed at every step) built twice from one model function:
// teacher-forced for training, greedy for inference. Both read the same parameters by name, and
// teacher forcing on the greedy decode's own tokens reproduces its logits step by step.
//
//===----------------------------------------------------------------------===//
#include "DecoderFixture.h"
#include "frontend/seq2seq/BasicDecoder.h"
#include "frontend/seq2seq/Encoder.h"
#include "tests/unit/frontend/nn/RunBackends.h"

#include <doctest/doctest.h>

#include <cmath>

namespace frontend_seq2seq_TeacherForcingTest {

using namespace weft;

namespace {

constexpr int64_t kVocab = 8, kMaxIterations = 6, kBatch = 3, kSource = 4;
enum class Decode { TeacherForcing, Greedy };

/// The model function. Teacher forcing: inputs source, source_lengths, targets [T, B] i64 (each
/// ending in <EOS>), target_lengths; results logits, ids. Greedy: inputs source,
/// source_lengths; results logits, ids, lengths.
void buildModel(Graph &g, Decode how) {
  Dim B = g.dim("B"), S = g.dim("S");
  Tensor source = g.input("source", {S, B}, DType::I32);
  Tensor sourceLengths = g.input("source_lengths", {B}, DType::I32);
  nn::Scope model(g, how == Decode::TeacherForcing ? nn::Mode::Train : nn::Mode::Eval);
  seq2seq::Embedding sourceEmbedding(model.child("source_embedding"), kVocab, 4);
  nn::LSTM encoder(model.child("encoder"), 4, 5, nn::RecurrentOptions().layers(2).bidir());
  nn::RecurrentOutputs e =
      encoder(sourceEmbedding(source), nn::RecurrentInputs().withLengths(sourceLengths));
  seq2seq::State s0 = seq2seq::decoderInitialState(encoder, e, seq2seq::Merge::Concat);
  Tensor context = seq2seq::contextVector(encoder, e, seq2seq::Merge::Sum);
  seq2seq::Embedding targetEmbedding(model.child("target_embedding"), kVocab, 4);
  seq2seq::StackedCell cell(model.child("decoder"), nn::CellKind::LSTM, 4 + 5, 10, 2);
  seq2seq::Dense out(model.child("output"), 10, kVocab);
  if (how == Decode::TeacherForcing) {
    Dim T = g.dim("T");
    Tensor targets = g.input("targets", {T, B}, DType::I64);
    Tensor targetLengths = g.input("target_lengths", {B}, DType::I64);
    seq2seq::TrainingHelper h{targetEmbedding(seq2seq::shiftRight(targets, 2)), targetLengths};
    auto r = seq2seq::dynamicDecode(seq2seq::BasicDecoder(cell, h, s0, out, context));
    g.outputs({r.logits, r.sampleIds});
  } else {
    seq2seq::GreedyEmbeddingHelper h{targetEmbedding.table(), full({B}, 2.0, DType::I64), 3};
    auto r = seq2seq::dynamicDecode(seq2seq::BasicDecoder(cell, h, s0, out, context),
                                    {.maximumIterations = kMaxIterations});
    g.outputs({r.logits, r.sampleIds, r.lengths});
  }
}

std::vector<std::string> names(const Graph &g) {
  std::vector<std::string> out;
  for (const ParamInfo &p : g.params())
    out.push_back(p.name);
  return out;
}

} // namespace

TEST_CASE("shiftRight puts <BOS> first and the targets one step later") {
  Graph g("shift");
  Dim T = g.dim("T"), B = g.dim("B");
  g.output(seq2seq::shiftRight(g.input("targets", {T, B}, DType::I32), 2));
  auto m = g.build();
  // Two sequences, time-major: "5 6 <EOS>" and "7 <EOS> <PAD>".
  Array targets = Array::of<int32_t>({3, 2}, {5, 7, 6, 3, 3, 0});
  auto results = testing::runBackends(*m, {targets}, {{"T", 3}, {"B", 2}});
  for (auto &[backend, fns] : results) {
    CAPTURE(backend);
    const Array &r = fns.at("shift")[0];
    CHECK(r.shape() == std::vector<int64_t>{3, 2});
    CHECK(std::vector<int32_t>(r.data<int32_t>(), r.data<int32_t>() + 6) ==
          std::vector<int32_t>{2, 2, 5, 7, 6, 3});
  }
}

TEST_CASE("the training and the inference decoder read the same parameters by name") {
  // DSL calls without a tensor operand build into the newest graph: one graph at a time.
  std::vector<std::string> train, infer;
  {
    Graph g("train");
    buildModel(g, Decode::TeacherForcing);
    train = names(g);
  }
  {
    Graph g("infer");
    buildModel(g, Decode::Greedy);
    infer = names(g);
  }
  CHECK(train == infer);
  CHECK(train.size() == 2 + 16 + 8 + 2);
}

TEST_CASE("teacher forcing on the greedy decode's tokens reproduces its logits and tokens") {
  Array source = Array::of<int32_t>({kSource, kBatch}, {4, 5, 6, 7, 4, 5, 6, 0, 4, 7, 0, 0});
  Array sourceLengths = Array::of<int32_t>({kBatch}, {4, 3, 2});
  ir::DimBindings dims{{"B", kBatch}, {"S", kSource}, {"T", kMaxIterations}};
  std::vector<Array> params;
  testing::ResultsByBackend greedy;
  {
    Graph infer("infer");
    buildModel(infer, Decode::Greedy);
    params = testing::paramValues(infer);
    greedy = testing::runBackends(*infer.build(), infer.arguments({source, sourceLengths}, params),
                                  dims);
  }
  Graph train("train");
  buildModel(train, Decode::TeacherForcing);
  auto trainModule = train.build();
  for (auto &[backend, fns] : greedy) {
    CAPTURE(backend);
    const std::vector<Array> &g = fns.at("infer");
    // The greedy ids (ending in <EOS>, or cut at the maximum) are the targets.
    auto forced = testing::runBackends(
        *trainModule, train.arguments({source, sourceLengths, g[1], g[2]}, params), dims);
    const std::vector<Array> &f = forced.at(backend).at("train");
    const int64_t *lengths = g[2].data<int64_t>();
    for (int64_t b = 0; b < kBatch; ++b) {
      CAPTURE(b);
      REQUIRE(lengths[b] >= 1);
      for (int64_t t = 0; t < lengths[b]; ++t) {
        CAPTURE(t);
        CHECK(f[1].data<int64_t>()[t * kBatch + b] == g[1].data<int64_t>()[t * kBatch + b]);
        for (int64_t v = 0; v < kVocab; ++v) {
          float want = g[0].data<float>()[(t * kBatch + b) * kVocab + v];
          float got = f[0].data<float>()[(t * kBatch + b) * kVocab + v];
          CHECK(std::fabs(got - want) <= 1e-5f * (1 + std::fabs(want)));
        }
      }
    }
  }
}

} // namespace frontend_seq2seq_TeacherForcingTest
