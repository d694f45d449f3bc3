//===- examples/SortLettersModel.cpp - the sort-letters encoder-decoder --===//
//
// Built with a TrainingHelper the model is the training graph (teacher forcing, a `scan`; the
// optimize-step pass adds the gradient and Adam); built with a GreedyEmbeddingHelper it is the
// inference graph (a `while` that stops when every word has emitted <EOS>). Both read the same
// parameters by name.
//
//===----------------------------------------------------------------------===//
#include "examples/SortLettersModel.h"

#include "frontend/Weft.h"
#include "frontend/nn/Losses.h"
#include "frontend/nn/Recurrent.h"
#include "frontend/seq2seq/BasicDecoder.h"
#include "frontend/seq2seq/Encoder.h"
#include "runtime/text/Vocabulary.h"

namespace weft::examples {

void buildSortLettersModel(Graph &g, Decode how, const SortLettersSizes &sizes, int64_t vocab,
                           int64_t maxIterations) {
  Dim B = g.dim("B"), S = g.dim("S");
  Tensor source = g.input("source", {S, B}, DType::I32);
  Tensor sourceLengths = g.input("source_lengths", {B}, DType::I32);
  nn::Scope model(g, how == Decode::TeacherForcing ? nn::Mode::Train : nn::Mode::Eval);

  seq2seq::Embedding sourceEmbedding(model.child("source_embedding"), vocab, sizes.embedding);
  nn::LSTM encoder(model.child("encoder"), sizes.embedding, sizes.hidden,
                   nn::RecurrentOptions().layers(sizes.layers));
  nn::RecurrentOutputs encoded =
      encoder(sourceEmbedding(source), nn::RecurrentInputs().withLengths(sourceLengths));

  seq2seq::Embedding targetEmbedding(model.child("target_embedding"), vocab, sizes.embedding);
  seq2seq::StackedCell cell(model.child("decoder"), nn::CellKind::LSTM, sizes.embedding,
                            sizes.hidden, sizes.layers);
  seq2seq::Dense output(model.child("output"), sizes.hidden, vocab);
  seq2seq::State initial = seq2seq::decoderInitialState(encoder, encoded);

  if (how == Decode::TeacherForcing) {
    Dim T = g.dim("T");
    Tensor targets = g.input("targets", {T, B}, DType::I32);
    Tensor targetLengths = g.input("targets_lengths", {B}, DType::I32);
    seq2seq::TrainingHelper helper{targetEmbedding(seq2seq::shiftRight(targets, text::kBos)),
                                   targetLengths};
    auto r = seq2seq::dynamicDecode(seq2seq::BasicDecoder(cell, helper, initial, output));
    Tensor real = ne(targets, zeros({T, B}, DType::I32));
    g.output(nn::crossEntropy(r.logits, targets, real));
    return;
  }
  seq2seq::GreedyEmbeddingHelper helper{targetEmbedding.table(),
                                        full({B}, double(text::kBos), DType::I64), text::kEos};
  auto r = seq2seq::dynamicDecode(seq2seq::BasicDecoder(cell, helper, initial, output),
                                  {.maximumIterations = maxIterations});
  g.outputs({r.sampleIds, r.lengths});
}

} // namespace weft::examples
