//===- tests/unit/frontend/seq2seq/GreedyDecodeTest.cpp - where decoding stops ===//
//
// A decoder whose tokens are known in advance: an LSTM cell with all weights and biases zero
// computes c' = c / 2 and h' = tanh(c') / 2 whatever its input, and the output layer makes
// token X (4) win while h > 0.1 and <EOS> (3) after. Each example's initial cell state c0 sets
// how many X it emits before <EOS>:
//
//   c0 = 2    c: 1, .5, .25, .125          X X X <EOS>             length 4
//   c0 = 100  c: 50, 25, 12.5, 6.25, 3.1   X X X X X (the maximum) length 5, not finished
//   c0 = 0    h = 0 at once                <EOS>                   length 1
//   c0 = 1    c: .5, .25, .125             X X <EOS>               length 3
//
//===----------------------------------------------------------------------===//
#include "DecoderFixture.h"
#include "frontend/seq2seq/BasicDecoder.h"
#include "tests/unit/frontend/nn/RunBackends.h"
#include "tests/unit/frontend/nn/ThrownMessage.h"

#include <doctest/doctest.h>

namespace frontend_seq2seq_GreedyDecodeTest {

using namespace weft;

namespace {

constexpr int64_t kX = 4, kMaxIterations = 5;

/// The decoder of the file comment; results: ids, lengths, finished, logits, trips.
struct CountdownDecoder {
  Graph g{"countdown"};
  CountdownDecoder() {
    Dim B = g.dim("B");
    Tensor c0 = g.input("c0", {B, 1});
    Tensor start = g.input("start", {B}, DType::I64);
    nn::Scope s(g, nn::Mode::Eval);
    seq2seq::Embedding embedding(s.child("embedding"), 5, 2);
    seq2seq::StackedCell cell(s.child("cell"), nn::CellKind::LSTM, 2, 1);
    seq2seq::Dense out(s.child("out"), 1, 5);
    seq2seq::BasicDecoder decoder(cell, seq2seq::GreedyEmbeddingHelper{embedding.table(), start, 3},
                                  {zeros({B, 1}), c0}, out);
    auto r = seq2seq::dynamicDecode(decoder, {.maximumIterations = kMaxIterations});
    g.outputs({r.sampleIds, r.lengths, r.finished, r.logits, r.trips});
  }
  std::vector<Array> arguments(const std::vector<float> &c0) const {
    int64_t n = static_cast<int64_t>(c0.size());
    std::map<std::string, Array> fixed{{"cell.weight_ih_l0", Array(DType::F32, {4, 2})},
                                       {"cell.weight_hh_l0", Array(DType::F32, {4, 1})},
                                       {"cell.bias_ih_l0", Array(DType::F32, {4})},
                                       {"cell.bias_hh_l0", Array(DType::F32, {4})}};
    fixed["out.weight"] = Array::of<float>({5, 1}, {0, 0, 0, 0, 10});
    fixed["out.bias"] = Array::of<float>({5}, {-10, -10, -10, 0, -1});
    return g.arguments(
        {Array::of<float>({n, 1}, c0), Array::of<int64_t>({n}, std::vector<int64_t>(c0.size(), 2))},
        testing::paramValues(g, fixed));
  }
};

} // namespace

TEST_CASE("greedy decoding stops each example at its <EOS> and at maximumIterations, then "
          "emits <PAD> with zero logits") {
  CountdownDecoder d;
  auto m = d.g.build();
  auto results = testing::runBackends(*m, d.arguments({2, 100, 0, 1}), {{"B", 4}});
  for (auto &[backend, fns] : results) {
    CAPTURE(backend);
    const std::vector<Array> &r = fns.at("countdown");
    std::vector<std::vector<int64_t>> want{
        {kX, kX, kX, 3, 0}, {kX, kX, kX, kX, kX}, {3, 0, 0, 0, 0}, {kX, kX, 3, 0, 0}};
    CHECK(testing::columns(r[0]) == want);
    CHECK(r[4].data<int64_t>()[0] == kMaxIterations);
    CHECK(r[1].shape() == std::vector<int64_t>{4});
    CHECK(std::vector<int64_t>(r[1].data<int64_t>(), r[1].data<int64_t>() + 4) ==
          std::vector<int64_t>{4, 5, 1, 3});
    std::vector<bool> finished;
    for (int64_t b = 0; b < 4; ++b)
      finished.push_back(r[2].data<bool>()[b]);
    CHECK(finished == std::vector<bool>{true, false, true, true});
    // Logits [T, B, V]: zero from the step after each example's last.
    const float *logits = r[3].data<float>();
    int64_t lengths[] = {4, 5, 1, 3};
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t t = 0; t < kMaxIterations; ++t) {
        CAPTURE(b);
        CAPTURE(t);
        float x = logits[(t * 4 + b) * 5 + kX];
        CHECK((t < lengths[b] ? x != 0.0f : x == 0.0f));
      }
  }
}

TEST_CASE("the decoding loop exits once every example has finished") {
  CountdownDecoder d;
  auto m = d.g.build();
  for (auto [c0, trips] : {std::pair<std::vector<float>, int64_t>{{2, 0, 1}, 4},
                           {{0, 0}, 1},
                           {{1, 100}, kMaxIterations}}) {
    CAPTURE(trips);
    auto results =
        testing::runBackends(*m, d.arguments(c0), {{"B", static_cast<int64_t>(c0.size())}});
    for (auto &[backend, fns] : results) {
      CAPTURE(backend);
      CHECK(fns.at("countdown")[4].data<int64_t>()[0] == trips);
    }
  }
}

TEST_CASE("an inference decode needs maximumIterations of at least 1") {
  Graph g("bad");
  Dim B = g.dim("B");
  Tensor start = g.input("start", {B}, DType::I64);
  nn::Scope s(g, nn::Mode::Eval);
  seq2seq::Embedding embedding(s.child("embedding"), 5, 2);
  seq2seq::StackedCell cell(s.child("cell"), nn::CellKind::GRU, 2, 3);
  seq2seq::Dense out(s.child("out"), 3, 5);
  seq2seq::BasicDecoder decoder(cell, seq2seq::GreedyEmbeddingHelper{embedding.table(), start, 3},
                                cell.zeroState(B), out);
  std::string msg = testing::thrownMessage([&] { seq2seq::dynamicDecode(decoder); });
  CHECK(msg.find("GreedyDecodeTest.cpp:") != std::string::npos);
  CHECK(msg.find("maximumIterations must be at least 1") != std::string::npos);
}

} // namespace frontend_seq2seq_GreedyDecodeTest
