//===- frontend/seq2seq/DecoderAttention.h - attention in a BasicDecoder --===//
//
// TF1's AttentionWrapper(MultiRNNCell(...), mechanism, attention_layer_size=A) driven by a
// BasicDecoder: every step of the decoder attends over the encoder's memory (Bahdanau or Luong,
// frontend/nn/attention) with the top layer's output h as the query:
//
//   (h, cell state') = cell(concat(input, a), cell state)      the cell takes E + A inputs
//   alignments, context = mechanism(h)                         masked by the source lengths
//   a' = concat(h, context) attention_layer.weight^T           [B, A], no bias
//   logits = output_layer(a')                                  the output layer takes A
//
// The attention vector a starts at zeros and is carried as the last tensor of the decoder's
// state, so training (the `scan`) and inference (the `while`) run the same step. The mechanism
// is built outside the loops, so the projected memory is a loop invariant.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/attention/AttentionMechanism.h"

#include <memory>

namespace weft::seq2seq {

class DecoderAttention {
public:
  /// `layerSize` is A; the layer's weight is "attention_layer.weight" [A, H + Dm] in `scope`,
  /// where H is the mechanism's query depth. Throws at `loc` for a null mechanism or A < 1.
  DecoderAttention(const nn::Scope &scope, std::shared_ptr<const nn::AttentionMechanism> mechanism,
                   int64_t layerSize, SrcLoc loc = SrcLoc::current());

  int64_t size() const { return size_; }
  const nn::AttentionMechanism &mechanism() const { return *mechanism_; }
  /// a' [B, A] from the cell's output h [B, H].
  Tensor operator()(const Tensor &h, SrcLoc loc = SrcLoc::current()) const;
  /// The first a: zeros [B, A].
  Tensor zeroState(SrcLoc loc = SrcLoc::current()) const;
  /// The same attention (the same layer) over the mechanism tiled `times` times per example
  /// (AttentionMechanism::tiled): batch B*times, for beam search.
  DecoderAttention tiled(int64_t times, SrcLoc loc = SrcLoc::current()) const;

private:
  std::shared_ptr<const nn::AttentionMechanism> mechanism_;
  int64_t size_;
  /// attention_layer.weight^T [H + Dm, A], transposed outside the decoder's loop.
  Tensor weightT_;
};

} // namespace weft::seq2seq
