//===- frontend/seq2seq/StackedCell.h - a decoder's recurrent cell --------===//
//
// TF1's MultiRNNCell of LSTMCells (or GRUCells): L cells stacked, the output h of layer l the
// input of layer l+1. One call is one time step:
//
//   x [B, I] -> layer 0 -> h0' -> layer 1 -> ... -> h_{L-1}' [B, H]   (the cell's output)
//
// The state is a flat list of [B, H] tensors: h_l, c_l per layer for LSTM, h_l for GRU.
// Parameters are named as nn::LSTM / nn::GRU name theirs (weight_ih_l{l}, weight_hh_l{l},
// bias_ih_l{l}, bias_hh_l{l} in the cell's scope), so a decoder built twice, once for
// training and once for inference, has the same names in both graphs. The weights are
// transposed once, when the cell is built, outside any loop body that later calls it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/RnnCells.h"

#include <utility>
#include <vector>

namespace weft::seq2seq {

/// A recurrent state: a list of tensors with axis 0 of size B.
using State = std::vector<Tensor>;

class StackedCell {
public:
  /// `kind` is nn::CellKind::LSTM or GRU. Throws at `loc` for other kinds or sizes below 1.
  StackedCell(const nn::Scope &scope, nn::CellKind kind, int64_t inputSize, int64_t hiddenSize,
              int64_t layers = 1, SrcLoc loc = SrcLoc::current());

  /// One step: the top layer's new h [B, H] and the new state. Throws at `loc` when the state
  /// has the wrong number of tensors.
  std::pair<Tensor, State> operator()(const Tensor &x, const State &state,
                                      SrcLoc loc = SrcLoc::current()) const;
  /// Zeros for every state tensor, [batch, H] each.
  State zeroState(Dim batch, SrcLoc loc = SrcLoc::current()) const;

  nn::CellKind kind() const { return kind_; }
  int64_t inputSize() const { return inputSize_; }
  int64_t hiddenSize() const { return hiddenSize_; }
  int64_t layers() const { return static_cast<int64_t>(weights_.size()); }
  /// Tensors per layer in the state: 2 for LSTM (h, c), 1 for GRU (h).
  size_t stateTensorsPerLayer() const { return kind_ == nn::CellKind::LSTM ? 2 : 1; }
  size_t stateSize() const { return weights_.size() * stateTensorsPerLayer(); }

private:
  nn::CellKind kind_;
  int64_t inputSize_, hiddenSize_;
  std::vector<nn::CellWeights> weights_;
};

} // namespace weft::seq2seq
