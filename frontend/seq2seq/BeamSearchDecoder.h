//===- frontend/seq2seq/BeamSearchDecoder.h - TF1's BeamSearchDecoder -----===//
//
// Beam search over the same decoder body as greedy decoding: BeamSearchDecoder wraps the
// BasicDecoder of a GreedyEmbeddingHelper (its cell, output layer, embedding, start and end
// tokens, initial state and context) and keeps K hypotheses per example.
//
// Each step, for every example, the K beams are run as K*B rows of the body; every beam b and
// token v is a candidate with the log-probability sum score[b] + log_softmax(logits[b])[v] and
// length len[b] + 1, ranked by GNMT's length-normalized score (Wu et al. 2016, as TF1's
// length_penalty_weight)
//
//   score / lp(len),   lp(len) = ((5 + len) / 6)^alpha        (alpha = 0: the raw sum)
//
// and the K best candidates become the new beams, best first. A beam that has emitted the end
// token is finished: its one candidate is itself, extended by <PAD> at no cost, so it keeps its
// score and length and competes with the live ones. An example is done when all its K beams
// are finished; the `while` stops when every example is done or after maximumIterations steps.
// The tokens and parent beams of every step are recorded and a reverse `scan` walks the parent
// pointers back from the final beams (TF's gather_tree).
//
// A decoder with attention (DecoderAttention.h) runs over its mechanism tiled per beam
// (tf.contrib.seq2seq's tile_batch: memory, key projection and source mask repeated K times per
// example, adjacent); its attention vector is part of the decoder's state, so it is reordered by
// the parent beams each step with the cell's state. DecoderAttention keeps no alignment history,
// so there is none to reorder.
//
// At the first step only beam 0 is live (the others start at a score of -1e30), so the K beams
// are K different continuations. K must not exceed the vocabulary size.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/seq2seq/BasicDecoder.h"

namespace weft::seq2seq {

class BeamSearchDecoder {
public:
  /// `decoder` must have a GreedyEmbeddingHelper. Throws at `loc` otherwise, or for a beam
  /// width below 1 or above the vocabulary, or a negative length penalty weight.
  BeamSearchDecoder(const BasicDecoder &decoder, int64_t beamWidth,
                    double lengthPenaltyWeight = 0.0, SrcLoc loc = SrcLoc::current());

  const BasicDecoder &decoder() const { return decoder_; }
  int64_t beamWidth() const { return beamWidth_; }
  double lengthPenaltyWeight() const { return alpha_; }

private:
  BasicDecoder decoder_;
  int64_t beamWidth_;
  double alpha_;
};

struct BeamSearchOutputs {
  /// [T, B, K] i64 with T = maximumIterations: beam k's tokens, best beam first, <PAD> after
  /// its end token.
  Tensor predictedIds;
  /// [B, K] f32: each beam's sum of log-probabilities (without the length penalty).
  Tensor scores;
  /// [B, K] i64: each beam's length, its end token included.
  Tensor lengths;
  /// tensor<i64>: the steps the loop ran.
  Tensor trips;
};

/// Runs the beam search for at most `maximumIterations` (at least 1) steps.
BeamSearchOutputs dynamicDecode(const BeamSearchDecoder &decoder, int64_t maximumIterations,
                                SrcLoc loc = SrcLoc::current());

} // namespace weft::seq2seq
