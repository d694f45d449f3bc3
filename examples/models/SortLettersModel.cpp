//===- examples/models/SortLettersModel.cpp - the sort-letters encoder-decoder ===//
//
// Built with a TrainingHelper the model is the training graph (teacher forcing, a `scan`; the
// optimize-step pass adds the gradient and Adam); built with a GreedyEmbeddingHelper it is the
// inference graph (a `while` that stops when every word has emitted <EOS>). Both read the same
// parameters by name.
//
//===----------------------------------------------------------------------===//
#include "examples/models/SortLettersModel.h"

#include "frontend/Weft.h"
#include "frontend/nn/Dropout.h"
#include "frontend/nn/Losses.h"
#include "frontend/nn/Recurrent.h"
#include "frontend/nn/attention/BahdanauAttention.h"
#include "frontend/nn/attention/LuongAttention.h"
#include "frontend/seq2seq/BasicDecoder.h"
#include "frontend/seq2seq/BeamSearchDecoder.h"
#include "frontend/seq2seq/Encoder.h"
#include "runtime/Random.h"
#include "runtime/text/Vocabulary.h"

#include <algorithm>

namespace weft::examples {
namespace {

constexpr int64_t kBenchLongest = 7;

/// Ids padded time-major [maxLen, B] and lengths [B]; `eos` appends <EOS> to every word.
std::pair<Array, Array> encode(const text::Vocabulary &v, const std::vector<std::string> &ws,
                               bool eos) {
  int64_t B = static_cast<int64_t>(ws.size()), S = kBenchLongest + (eos ? 1 : 0);
  Array ids(DType::I32, {S, B}), lengths(DType::I32, {B});
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int32_t> e = v.encode(ws[static_cast<size_t>(b)]);
    if (eos)
      e.push_back(text::kEos);
    lengths.data<int32_t>()[b] = static_cast<int32_t>(e.size());
    for (size_t t = 0; t < e.size(); ++t)
      ids.data<int32_t>()[static_cast<int64_t>(t) * B + b] = e[t];
  }
  return {std::move(ids), std::move(lengths)};
}

} // namespace

void buildSortLettersModel(Graph &g, Decode how, const SortLettersSizes &c, int64_t vocab,
                           int64_t maxIterations) {
  Dim B = g.dim("B"), S = g.dim("S");
  Tensor source = g.input("source", {S, B}, DType::I32);
  Tensor sourceLengths = g.input("source_lengths", {B}, DType::I32);
  nn::Scope model(g, how == Decode::TeacherForcing ? nn::Mode::Train : nn::Mode::Eval);
  // Training draws new dropout masks every step from the step counter; Eval mode drops nothing.
  if (how == Decode::TeacherForcing && c.dropout > 0)
    model = model.withSeed(nn::stepSeed(g, c.dropoutSeed));
  nn::Dropout drop(model, c.dropout);

  seq2seq::Embedding sourceEmbedding(model.child("source_embedding"), vocab, c.embedding);
  nn::LSTM encoder(
      model.child("encoder"), c.embedding, c.hidden,
      nn::RecurrentOptions().layers(c.layers).bidir(c.bidirectional).withDropout(c.dropout));
  nn::RecurrentOutputs encoded =
      encoder(drop(sourceEmbedding(source)), nn::RecurrentInputs().withLengths(sourceLengths));

  seq2seq::Embedding targetEmbedding(model.child("target_embedding"), vocab, c.embedding);
  seq2seq::State initial = seq2seq::decoderInitialState(encoder, encoded, seq2seq::Merge::Sum);
  // With attention, the decoder's cell also reads the attention vector (as wide as the cell).
  seq2seq::StackedCell cell(model.child("decoder"), nn::CellKind::LSTM,
                            c.embedding + (c.attention ? c.hidden : 0), c.hidden, c.layers);
  seq2seq::Dense output(model.child("output"), c.hidden, vocab);
  auto decoder = [&](seq2seq::Helper helper) {
    if (!c.attention)
      return seq2seq::BasicDecoder(cell, std::move(helper), initial, output);
    // Attention over the encoder's outputs, batch-major [B, S, H], masked by the word lengths.
    Tensor memory = transpose(drop(encoded.output), {1, 0, 2});
    std::shared_ptr<const nn::AttentionMechanism> mechanism;
    if (c.score == AttentionScore::Bahdanau)
      mechanism = std::make_shared<nn::BahdanauAttention>(model.child("attention"), c.hidden,
                                                          memory, sourceLengths, c.hidden);
    else
      mechanism = std::make_shared<nn::LuongAttention>(model.child("attention"), memory,
                                                       sourceLengths, c.hidden, /*scale=*/true);
    seq2seq::DecoderAttention attention(model.child("attention"), mechanism, c.hidden);
    return seq2seq::BasicDecoder(cell, std::move(helper), initial, output, attention);
  };

  if (how == Decode::TeacherForcing) {
    Dim T = g.dim("T");
    Tensor targets = g.input("targets", {T, B}, DType::I32);
    Tensor targetLengths = g.input("targets_lengths", {B}, DType::I32);
    seq2seq::TrainingHelper helper{drop(targetEmbedding(seq2seq::shiftRight(targets, text::kBos))),
                                   targetLengths};
    auto r = seq2seq::dynamicDecode(decoder(helper));
    Tensor real = ne(targets, zeros({T, B}, DType::I32));
    g.output(nn::crossEntropy(r.logits, targets, real));
    return;
  }
  seq2seq::GreedyEmbeddingHelper helper{targetEmbedding.table(),
                                        full({B}, double(text::kBos), DType::I64), text::kEos};
  if (c.beamWidth >= 1) {
    seq2seq::BeamSearchDecoder beams(decoder(helper), c.beamWidth, c.lengthPenalty);
    auto r = seq2seq::dynamicDecode(beams, maxIterations);
    // The best beam: ids [T, B, K] -> [T, B], lengths [B, K] -> [B].
    Tensor ids = reshape(slice(r.predictedIds, 2, 0, 1), {Dim(maxIterations), B});
    g.outputs({ids, reshape(slice(r.lengths, 1, 0, 1), {B})});
    return;
  }
  auto r = seq2seq::dynamicDecode(decoder(helper), {.maximumIterations = maxIterations});
  g.outputs({r.sampleIds, r.lengths});
}

SortLettersBatch sortLettersBatch(int64_t n, int64_t seed) {
  std::vector<std::string> source, target;
  uint64_t draw = 0;
  auto below = [&](int64_t k) {
    return static_cast<int64_t>(random::uniformF64(seed, draw++) * double(k));
  };
  for (int64_t i = 0; i < n; ++i) {
    std::string word;
    for (int64_t len = i == 0 ? kBenchLongest : 1 + below(kBenchLongest); len > 0; --len)
      word += static_cast<char>('a' + below(26));
    std::string sorted = word;
    std::sort(sorted.begin(), sorted.end());
    source.push_back(word);
    target.push_back(sorted);
  }
  std::vector<std::string> all = source;
  all.insert(all.end(), target.begin(), target.end());
  all.push_back("abcdefghijklmnopqrstuvwxyz");
  text::Vocabulary vocab = text::Vocabulary::build(all, text::Vocabulary::Kind::Char);
  auto [sourceIds, sourceLengths] = encode(vocab, source, /*eos=*/false);
  auto [targetIds, targetLengths] = encode(vocab, target, /*eos=*/true);
  return SortLettersBatch{std::move(vocab), std::move(sourceIds), std::move(sourceLengths),
                          std::move(targetIds), std::move(targetLengths)};
}

} // namespace weft::examples
