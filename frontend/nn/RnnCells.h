//===- frontend/nn/RnnCells.h - one step of a SimpleRNN, LSTM or GRU -------===//
//
// The cells' math, in PyTorch's layout and gate order (G gates of H units each):
//
//   weight_ih [G*H, I], weight_hh [G*H, H], bias_ih [G*H], bias_hh [G*H] (biases optional)
//   SimpleRNN (G = 1): h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)   (or relu)
//   LSTM (G = 4, gates i, f, g, o):
//     [i f g o] = x W_ih^T + b_ih + h W_hh^T + b_hh
//     c' = sigmoid(f) * c + sigmoid(i) * tanh(g),  h' = sigmoid(o) * tanh(c')
//   GRU (G = 3, gates r, z, n):
//     r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//     n = tanh(W_in x + b_in + r * (W_hn h + b_hn))       GruReset::AfterMatmul (PyTorch, cuDNN)
//     n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)       GruReset::BeforeMatmul (Cho et al. 2014)
//     h' = (1 - z) * n + z * h
//
// x is [B, I], h and c are [B, H]. The step functions take CellWeights, whose matrices are
// already transposed (built once, outside a scan body); the cell modules (LSTMCell, ...) own
// parameters named as torch.nn.LSTMCell's state_dict names them: weight_ih, weight_hh,
// bias_ih, bias_hh.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/nn/Scope.h"

#include <optional>
#include <string>
#include <utility>

namespace weft::nn {

enum class CellKind { SimpleRNN, LSTM, GRU };
enum class Nonlinearity { Tanh, Relu };
enum class GruReset { AfterMatmul, BeforeMatmul };

/// The number of gates G of a cell kind: 1, 4 or 3.
int64_t gateCount(CellKind kind);
/// "nn.RNN", "nn.LSTM", "nn.GRU", for messages.
const char *cellName(CellKind kind, bool sequence);

/// A cell's weights ready for the step functions: inputT = weight_ih^T [I, G*H],
/// hiddenT = weight_hh^T [H, G*H]; the biases are [G*H] or empty when the layer has none.
struct CellWeights {
  Tensor inputT, hiddenT, inputBias, hiddenBias;
  /// Transposes PyTorch-layout weights (biases may be empty Tensors).
  static CellWeights fromPyTorch(const Tensor &weightIh, const Tensor &weightHh,
                                 const Tensor &biasIh, const Tensor &biasHh,
                                 SrcLoc loc = SrcLoc::current());
};

/// The parameters of one cell in `scope`: weight_ih{suffix}, weight_hh{suffix}, and with
/// `bias` bias_ih{suffix}, bias_hh{suffix}, drawn from PyTorch's default U(-1/sqrt(H), 1/sqrt(H)).
struct CellParams {
  Tensor weightIh, weightHh, biasIh, biasHh;
  /// `forgetBias` (LSTM): bias_ih from init::lstmForgetBias, bias_hh zeros.
  static CellParams declare(const Scope &scope, CellKind kind, int64_t inputSize,
                            int64_t hiddenSize, bool bias, const std::string &suffix, DType dtype,
                            SrcLoc loc, std::optional<double> forgetBias = std::nullopt);
  CellWeights weights(SrcLoc loc) const {
    return CellWeights::fromPyTorch(weightIh, weightHh, biasIh, biasHh, loc);
  }
};

/// One step; see the file comment. Shapes are checked by the ops (at `loc`).
Tensor rnnStep(const CellWeights &w, const Tensor &x, const Tensor &h, Nonlinearity nl,
               SrcLoc loc = SrcLoc::current());
/// Returns {h', c'}.
std::pair<Tensor, Tensor> lstmStep(const CellWeights &w, const Tensor &x, const Tensor &h,
                                   const Tensor &c, SrcLoc loc = SrcLoc::current());
Tensor gruStep(const CellWeights &w, const Tensor &x, const Tensor &h, GruReset reset,
               SrcLoc loc = SrcLoc::current());

/// Cell modules, as torch.nn.RNNCell / LSTMCell / GRUCell: parameters in their scope at
/// construction, one step per call on x [B, I] and the state [B, H].
class RNNCell {
public:
  RNNCell(const Scope &scope, int64_t inputSize, int64_t hiddenSize,
          Nonlinearity nl = Nonlinearity::Tanh, bool bias = true, DType dtype = DType::F32,
          SrcLoc loc = SrcLoc::current());
  Tensor operator()(const Tensor &x, const Tensor &h, SrcLoc loc = SrcLoc::current()) const;
  const CellParams &params() const { return p_; }

private:
  CellParams p_;
  Nonlinearity nl_;
};

class LSTMCell {
public:
  LSTMCell(const Scope &scope, int64_t inputSize, int64_t hiddenSize, bool bias = true,
           DType dtype = DType::F32, SrcLoc loc = SrcLoc::current());
  /// Returns {h', c'}.
  std::pair<Tensor, Tensor> operator()(const Tensor &x, const Tensor &h, const Tensor &c,
                                       SrcLoc loc = SrcLoc::current()) const;
  const CellParams &params() const { return p_; }

private:
  CellParams p_;
};

class GRUCell {
public:
  GRUCell(const Scope &scope, int64_t inputSize, int64_t hiddenSize, bool bias = true,
          GruReset reset = GruReset::AfterMatmul, DType dtype = DType::F32,
          SrcLoc loc = SrcLoc::current());
  Tensor operator()(const Tensor &x, const Tensor &h, SrcLoc loc = SrcLoc::current()) const;
  const CellParams &params() const { return p_; }

private:
  CellParams p_;
  GruReset reset_;
};

} // namespace weft::nn
