//===- frontend/seq2seq/Encoder.cpp ---------------------------------------===//
#include "frontend/seq2seq/Encoder.h"

#include "frontend/Ops.h"

namespace weft::seq2seq {

namespace {

/// The final state [L*D, B, H] of layer `layer`, both directions merged: [B, H or 2H].
Tensor layerState(const nn::Recurrent &enc, const Tensor &n, int64_t layer, Merge merge,
                  SrcLoc loc) {
  int64_t D = enc.directions(), H = enc.hiddenSize();
  Dim B = n.shape()[1];
  auto direction = [&](int64_t d) {
    int64_t k = layer * D + d;
    return reshape(slice(n, 0, k, k + 1, loc), {B, Dim(H)}, loc);
  };
  if (D == 1)
    return direction(0);
  if (merge == Merge::Sum)
    return add(direction(0), direction(1), loc);
  return concat({direction(0), direction(1)}, 1, loc);
}

} // namespace

int64_t mergedSize(const nn::Recurrent &encoder, Merge merge) {
  bool doubled = encoder.directions() == 2 && merge == Merge::Concat;
  return encoder.hiddenSize() * (doubled ? 2 : 1);
}

State decoderInitialState(const nn::Recurrent &encoder, const nn::RecurrentOutputs &out,
                          Merge merge, SrcLoc loc) {
  if (encoder.kind() == nn::CellKind::SimpleRNN)
    throwAt(loc, "seq2seq::decoderInitialState: the encoder must be an nn::LSTM or nn::GRU "
                 "(a StackedCell has no SimpleRNN kind)");
  State s;
  for (int64_t l = 0; l < encoder.options().numLayers; ++l) {
    s.push_back(layerState(encoder, out.h_n, l, merge, loc));
    if (encoder.kind() == nn::CellKind::LSTM)
      s.push_back(layerState(encoder, out.c_n, l, merge, loc));
  }
  return s;
}

Tensor contextVector(const nn::Recurrent &encoder, const nn::RecurrentOutputs &out, Merge merge,
                     SrcLoc loc) {
  return layerState(encoder, out.h_n, encoder.options().numLayers - 1, merge, loc);
}

} // namespace weft::seq2seq
