//===- frontend/nn/attention/AttentionWrapper.h - a cell with attention ---===//
//
// TensorFlow's AttentionWrapper: an RNN cell (nn::RNNCell, LSTMCell or GRUCell) whose every
// step attends over an encoder's memory through an AttentionMechanism (Bahdanau or Luong).
// One step, with state (cell state, attention a):
//   (out, cell') = cell(concat(x, a), cell state)
//   alignments, context = mechanism(out)
//   a' = attention_layer(concat(out, context))   with attentionLayerSize (a linear map without
//                                                bias, "attention_layer.weight"), else context
//   output = a' (outputAttention, the default) or out
// The cell's input size is therefore I + attentionSize(). The step has the shape of a cell's
// (inputs and state in, output and state out), so a decoder can drive it like a cell; the
// alignments of each step come with it, and unroll() stacks them into the alignment history
// [T, B, Tm] for plotting.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/RnnCells.h"
#include "frontend/nn/attention/AttentionMechanism.h"

#include <memory>
#include <optional>
#include <variant>

namespace weft::nn {

using WrappedCell = std::variant<RNNCell, LSTMCell, GRUCell>;

struct AttentionWrapperOptions {
  std::optional<int64_t> attentionLayerSize;
  bool outputAttention = true;

  AttentionWrapperOptions &withAttentionLayerSize(int64_t n) {
    attentionLayerSize = n;
    return *this;
  }
  AttentionWrapperOptions &withCellOutput() {
    outputAttention = false;
    return *this;
  }
};

struct AttentionWrapperState {
  /// [B, H]; c only for an LSTM cell.
  Tensor h, c;
  /// [B, attentionSize()].
  Tensor attention;
};

struct AttentionWrapperStep {
  Tensor output;
  AttentionWrapperState state;
  /// [B, Tm].
  Tensor alignments;
};

struct AttentionWrapperSequence {
  /// [T, B, outputSize()].
  Tensor outputs;
  AttentionWrapperState final;
  /// [T, B, Tm]: the alignments of every step.
  Tensor alignmentHistory;
};

class AttentionWrapper {
public:
  AttentionWrapper(const Scope &scope, WrappedCell cell,
                   std::shared_ptr<const AttentionMechanism> mechanism,
                   const AttentionWrapperOptions &options = {}, SrcLoc loc = SrcLoc::current());

  /// The width of the attention vector a: attentionLayerSize or the memory depth.
  int64_t attentionSize() const;
  int64_t outputSize() const;
  /// Zeros for the cell state and the attention.
  AttentionWrapperState zeroState(SrcLoc loc = SrcLoc::current()) const;
  /// One step on x [B, I].
  AttentionWrapperStep operator()(const Tensor &x, const AttentionWrapperState &state,
                                  SrcLoc loc = SrcLoc::current()) const;
  /// Every step of xs [T, B, I] (time-major), as a scan.
  AttentionWrapperSequence unroll(const Tensor &xs, const AttentionWrapperState &initial,
                                  SrcLoc loc = SrcLoc::current()) const;

private:
  std::string label_;
  WrappedCell cell_;
  std::shared_ptr<const AttentionMechanism> mechanism_;
  AttentionWrapperOptions options_;
  int64_t hidden_ = 0;
  /// attention_layer.weight^T [H + Dm, attentionLayerSize].
  Tensor attentionWeightT_;
};

} // namespace weft::nn
