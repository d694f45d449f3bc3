//===- examples/models/SortLettersModel.h - the sort-letters encoder-decoder ===//
//
// The model of the Udacity seq2seq exercise, shared by weft-example-sort-letters and
// weft-bench-seq2seq so that the benchmark times exactly the model the example trains: letters
// embedded in `embedding` dims, a stacked LSTM encoder of `hidden` units whose final state starts
// a stacked LSTM decoder, and a dense layer over the vocabulary.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Graph.h"
#include "runtime/text/Vocabulary.h"

#include <cstdint>

namespace weft::examples {

/// How a decoder step scores the encoder's outputs: Bahdanau's additive score or Luong's
/// multiplicative ("general", with TensorFlow's learned scale g).
enum class AttentionScore { Bahdanau, Luong };

/// The exercise's sizes: embedding 15, 2 LSTM layers of 50; `attention` adds attention over the
/// encoder's outputs to every decoder step (seq2seq::DecoderAttention), scored by `score`.
struct SortLettersSizes {
  int64_t embedding = 15, hidden = 50, layers = 2;
  bool attention = false;
  AttentionScore score = AttentionScore::Bahdanau;
  /// A bidirectional encoder (Bahdanau et al. 2015): each of its outputs, the attention's
  /// memory, sees the whole word; the two directions' final states are summed for the decoder.
  bool bidirectional = false;
  /// Decode::Greedy with a beamWidth of K >= 1: beam search over K beams
  /// (seq2seq::BeamSearchDecoder, GNMT's length penalty weight `lengthPenalty`), the best beam's
  /// ids and length the results; 0: the greedy helper.
  int64_t beamWidth = 0;
  double lengthPenalty = 0.0;
  /// Dropout with this probability, in the teacher-forced (training) graph only: on both
  /// embeddings' outputs, between the encoder's layers, and on the encoder's outputs that the
  /// attention reads. Its masks are new every step: the seed is the step counter mixed with
  /// `dropoutSeed` (nn::stepSeed), so that graph then takes the step number as input `step`.
  double dropout = 0.0;
  int64_t dropoutSeed = 0;
};

enum class Decode { TeacherForcing, Greedy };

/// Adds the model to `g`. Inputs: source [S, B] and source_lengths [B] (i32 ids from the
/// vocabulary), and for teacher forcing targets [T, B] (the sorted word then <EOS>) and
/// targets_lengths. Results: the mean cross-entropy over real target tokens (teacher forcing), or
/// the greedy (or best beam's) ids [maxIterations, B] and their lengths.
void buildSortLettersModel(Graph &g, Decode how, const SortLettersSizes &sizes, int64_t vocab,
                           int64_t maxIterations);

/// A benchmark batch: `n` words of 1 to 7 random letters drawn from `seed` (the first 7 long, so
/// that the batch pads to 7) and their letters sorted, over the vocabulary of the specials and
/// the 26 letters; ids time-major ([7, n] and [8, n] with <EOS>) with i32 lengths, as the
/// example encodes its words.
struct SortLettersBatch {
  text::Vocabulary vocab;
  Array sourceIds, sourceLengths, targetIds, targetLengths;
};
SortLettersBatch sortLettersBatch(int64_t n, int64_t seed);

} // namespace weft::examples
