//===- frontend/nn/Recurrent.h - RNN, LSTM and GRU sequence layers ---------===//
//
// torch.nn.RNN / LSTM / GRU over `scan`, with PyTorch's parameter names, shapes and defaults.
// Sequences are time-major, xs [T, B, I], as PyTorch's default (batch_first=False); results
// are as PyTorch's:
//   output [T, B, D*H]        the last layer's h at every step, both directions concatenated
//                             (forward first); zero at padded steps (as pad_packed_sequence)
//   h_n, c_n [L*D, B, H]      the final state of each layer and direction, index l*D + d
//                             (c_n for LSTM only)
// with L = numLayers and D = 2 when bidirectional, else 1. Parameters of layer l, direction d:
// weight_ih_l{l}[_reverse] [G*H, I or D*H], weight_hh_l{l}[_reverse] [G*H, H],
// bias_ih_l{l}[_reverse], bias_hh_l{l}[_reverse] [G*H] (see RnnCells.h for G and the math).
//
// Per-example lengths (tensor<B x i32|i64>, each in [0, T]): example b runs steps 0..len[b]-1;
// its final state is the one after step len[b]-1, its outputs at t >= len[b] are zero, and
// the reverse direction runs over its own valid part reversed, len[b]-1 down to 0, as on a
// packed sequence (the padding is never read). This is scan's `lengths` (docs/IR.md).
//
// Dropout with probability `dropout` applies to every layer's output but the last, in
// training mode only (as PyTorch); it needs a seeded scope (nn/Dropout.h).
//
//   nn::LSTM lstm(scope.child("lstm"), 64, 128, nn::RecurrentOptions().layers(2).bidir());
//   auto [out, h_n, c_n] = lstm(xs, nn::RecurrentInputs().withLengths(len));
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/RnnCells.h"

#include <optional>
#include <vector>

namespace weft::nn {

struct RecurrentOptions {
  int64_t numLayers = 1;
  bool bias = true;
  double dropout = 0.0;
  bool bidirectional = false;
  /// SimpleRNN only.
  Nonlinearity nonlinearity = Nonlinearity::Tanh;
  /// GRU only.
  GruReset gruReset = GruReset::AfterMatmul;
  /// LSTM only: bias_ih starts at zeros with its forget gate at this value, bias_hh at zeros
  /// (init::lstmForgetBias), instead of PyTorch's default.
  std::optional<double> forgetBias;
  DType dtype = DType::F32;

  RecurrentOptions &layers(int64_t n) {
    numLayers = n;
    return *this;
  }
  RecurrentOptions &withBias(bool on) {
    bias = on;
    return *this;
  }
  RecurrentOptions &withDropout(double p) {
    dropout = p;
    return *this;
  }
  RecurrentOptions &bidir(bool on = true) {
    bidirectional = on;
    return *this;
  }
  RecurrentOptions &relu() {
    nonlinearity = Nonlinearity::Relu;
    return *this;
  }
  RecurrentOptions &withGruReset(GruReset r) {
    gruReset = r;
    return *this;
  }
  RecurrentOptions &withForgetBias(double v = 1.0) {
    forgetBias = v;
    return *this;
  }
  RecurrentOptions &withDType(DType dt) {
    dtype = dt;
    return *this;
  }
};

/// What a call takes besides xs; every part is optional.
struct RecurrentInputs {
  /// Initial states [L*D, B, H] (c0 for LSTM only); zeros when empty.
  Tensor h0, c0;
  /// tensor<B x i32|i64>; every example runs all T steps when empty.
  Tensor lengths;

  RecurrentInputs &withState(Tensor h, Tensor c = {}) {
    h0 = h;
    c0 = c;
    return *this;
  }
  RecurrentInputs &withLengths(Tensor len) {
    lengths = len;
    return *this;
  }
};

struct RecurrentOutputs {
  Tensor output, h_n, c_n;
};

/// The common layer; use RNN, LSTM or GRU.
class Recurrent {
public:
  /// Builds the layer's scans. Inputs of the wrong rank, size or dtype throw at `loc`, naming
  /// the layer and the shapes.
  RecurrentOutputs operator()(const Tensor &xs, const RecurrentInputs &in = {},
                              SrcLoc loc = SrcLoc::current()) const;

  CellKind kind() const { return kind_; }
  int64_t inputSize() const { return inputSize_; }
  int64_t hiddenSize() const { return hiddenSize_; }
  const RecurrentOptions &options() const { return opts_; }
  int64_t directions() const { return opts_.bidirectional ? 2 : 1; }
  /// The parameters of layer l, direction d (0 forward, 1 reverse).
  const CellParams &cell(int64_t layer, int64_t direction) const {
    return cells_.at(static_cast<size_t>(layer * directions() + direction));
  }

protected:
  Recurrent(const Scope &scope, CellKind kind, int64_t inputSize, int64_t hiddenSize,
            RecurrentOptions opts, SrcLoc loc);

private:
  /// "nn.LSTM 'encoder.lstm'", for messages.
  std::string describe() const;
  void checkInputs(const Tensor &xs, const RecurrentInputs &in, SrcLoc loc) const;

  Scope scope_;
  CellKind kind_;
  int64_t inputSize_, hiddenSize_;
  RecurrentOptions opts_;
  std::vector<CellParams> cells_;
};

/// torch.nn.RNN: options().relu() for the relu nonlinearity.
class RNN : public Recurrent {
public:
  RNN(const Scope &scope, int64_t inputSize, int64_t hiddenSize, RecurrentOptions opts = {},
      SrcLoc loc = SrcLoc::current())
      : Recurrent(scope, CellKind::SimpleRNN, inputSize, hiddenSize, opts, loc) {}
};

class LSTM : public Recurrent {
public:
  LSTM(const Scope &scope, int64_t inputSize, int64_t hiddenSize, RecurrentOptions opts = {},
       SrcLoc loc = SrcLoc::current())
      : Recurrent(scope, CellKind::LSTM, inputSize, hiddenSize, opts, loc) {}
};

class GRU : public Recurrent {
public:
  GRU(const Scope &scope, int64_t inputSize, int64_t hiddenSize, RecurrentOptions opts = {},
      SrcLoc loc = SrcLoc::current())
      : Recurrent(scope, CellKind::GRU, inputSize, hiddenSize, opts, loc) {}
};

} // namespace weft::nn
