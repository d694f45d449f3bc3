//===- frontend/seq2seq/Encoder.h - handing an encoder's result to a decoder ===//
//
// The two encoder-decoder architectures of the classic lectures, on top of nn::LSTM / nn::GRU
// (stacked with RecurrentOptions::layers, bidirectional with bidir()):
//
//   1. Sutskever et al. 2014: the encoder's final state is the decoder's initial state, layer
//      by layer (decoderInitialState). The decoder has as many layers as the encoder.
//   2. Cho et al. 2014: a context vector, the top layer's final h, fed to the decoder at every
//      step beside its input (contextVector; BasicDecoder's `context`).
//
// A bidirectional encoder has two final states per layer. Merge::Concat joins them, forward
// first, into [B, 2H] (the decoder then has 2H units); Merge::Sum adds them into [B, H] (the
// decoder keeps H units). Concat keeps all the information and is the default.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Recurrent.h"
#include "frontend/seq2seq/StackedCell.h"

namespace weft::seq2seq {

enum class Merge { Concat, Sum };

/// The decoder's hidden size for an encoder of hidden size H: 2H for a bidirectional encoder
/// merged by Concat, H otherwise.
int64_t mergedSize(const nn::Recurrent &encoder, Merge merge = Merge::Concat);

/// The final state of `encoder` (whose call returned `out`) as a StackedCell of the same kind and
/// number of layers takes it: h_l, c_l per layer (LSTM) or h_l (GRU), each [B, mergedSize].
/// Throws at `loc` for a SimpleRNN encoder.
State decoderInitialState(const nn::Recurrent &encoder, const nn::RecurrentOutputs &out,
                          Merge merge = Merge::Concat, SrcLoc loc = SrcLoc::current());

/// The top layer's final h, both directions merged: [B, mergedSize].
Tensor contextVector(const nn::Recurrent &encoder, const nn::RecurrentOutputs &out,
                     Merge merge = Merge::Concat, SrcLoc loc = SrcLoc::current());

} // namespace weft::seq2seq
