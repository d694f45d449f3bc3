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
#include "frontend/nn/Losses.h"
#include "frontend/nn/attention/BahdanauAttention.h"
#include "frontend/nn/Recurrent.h"
#include "frontend/seq2seq/BasicDecoder.h"
#include "frontend/seq2seq/Encoder.h"
#include "runtime/text/Vocabulary.h"

namespace weft::examples {

void buildSortLettersModel(Graph &g, Decode how, const SortLettersSizes &c, int64_t vocab,
                           int64_t maxIterations) {
  Dim B = g.dim("B"), S = g.dim("S");
  Tensor source = g.input("source", {S, B}, DType::I32);
  Tensor sourceLengths = g.input("source_lengths", {B}, DType::I32);
  nn::Scope model(g, how == Decode::TeacherForcing ? nn::Mode::Train : nn::Mode::Eval);

  seq2seq::Embedding sourceEmbedding(model.child("source_embedding"), vocab, c.embedding);
  nn::LSTM encoder(model.child("encoder"), c.embedding, c.hidden,
                   nn::RecurrentOptions().layers(c.layers));
  nn::RecurrentOutputs encoded =
      encoder(sourceEmbedding(source), nn::RecurrentInputs().withLengths(sourceLengths));

  seq2seq::Embedding targetEmbedding(model.child("target_embedding"), vocab, c.embedding);
  seq2seq::State initial = seq2seq::decoderInitialState(encoder, encoded);
  // With attention, the decoder's cell also reads the attention vector (as wide as the cell).
  seq2seq::StackedCell cell(model.child("decoder"), nn::CellKind::LSTM,
                            c.embedding + (c.attention ? c.hidden : 0), c.hidden, c.layers);
  seq2seq::Dense output(model.child("output"), c.hidden, vocab);
  auto decoder = [&](seq2seq::Helper helper) {
    if (!c.attention)
      return seq2seq::BasicDecoder(cell, std::move(helper), initial, output);
    // Bahdanau over the encoder's outputs, batch-major [B, S, H], masked by the word lengths.
    Tensor memory = transpose(encoded.output, {1, 0, 2});
    auto bahdanau = std::make_shared<nn::BahdanauAttention>(model.child("attention"), c.hidden,
                                                            memory, sourceLengths, c.hidden);
    seq2seq::DecoderAttention attention(model.child("attention"), bahdanau, c.hidden);
    return seq2seq::BasicDecoder(cell, std::move(helper), initial, output, attention);
  };

  if (how == Decode::TeacherForcing) {
    Dim T = g.dim("T");
    Tensor targets = g.input("targets", {T, B}, DType::I32);
    Tensor targetLengths = g.input("targets_lengths", {B}, DType::I32);
    seq2seq::TrainingHelper helper{targetEmbedding(seq2seq::shiftRight(targets, text::kBos)),
                                   targetLengths};
    auto r = seq2seq::dynamicDecode(decoder(helper));
    Tensor real = ne(targets, zeros({T, B}, DType::I32));
    g.output(nn::crossEntropy(r.logits, targets, real));
    return;
  }
  seq2seq::GreedyEmbeddingHelper helper{targetEmbedding.table(),
                                        full({B}, double(text::kBos), DType::I64), text::kEos};
  auto r = seq2seq::dynamicDecode(decoder(helper), {.maximumIterations = maxIterations});
  g.outputs({r.sampleIds, r.lengths});
}

} // namespace weft::examples
