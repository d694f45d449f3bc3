//===- frontend/nn/RnnCells.cpp -------------------------------------------===//
#include "frontend/nn/RnnCells.h"

#include "frontend/Ops.h"

#include <cmath>

namespace weft::nn {
namespace {

/// x W_ih^T + b_ih and h W_hh^T + b_hh, each [B, G*H].
std::pair<Tensor, Tensor> projections(const CellWeights &w, const Tensor &x, const Tensor &h,
                                      SrcLoc loc) {
  Tensor gx = matmul(x, w.inputT, loc);
  Tensor gh = matmul(h, w.hiddenT, loc);
  if (w.inputBias.valid())
    gx = add(gx, w.inputBias, loc);
  if (w.hiddenBias.valid())
    gh = add(gh, w.hiddenBias, loc);
  return {gx, gh};
}

} // namespace

int64_t gateCount(CellKind kind) {
  switch (kind) {
  case CellKind::SimpleRNN:
    return 1;
  case CellKind::LSTM:
    return 4;
  case CellKind::GRU:
    return 3;
  }
  WEFT_UNREACHABLE("unhandled CellKind");
}

const char *cellName(CellKind kind, bool sequence) {
  switch (kind) {
  case CellKind::SimpleRNN:
    return sequence ? "nn.RNN" : "nn.RNNCell";
  case CellKind::LSTM:
    return sequence ? "nn.LSTM" : "nn.LSTMCell";
  case CellKind::GRU:
    return sequence ? "nn.GRU" : "nn.GRUCell";
  }
  WEFT_UNREACHABLE("unhandled CellKind");
}

CellWeights CellWeights::fromPyTorch(const Tensor &weightIh, const Tensor &weightHh,
                                     const Tensor &biasIh, const Tensor &biasHh, SrcLoc loc) {
  return {transpose(weightIh, {1, 0}, loc), transpose(weightHh, {1, 0}, loc), biasIh, biasHh};
}

CellParams CellParams::declare(const Scope &scope, CellKind kind, int64_t inputSize,
                               int64_t hiddenSize, bool bias, const std::string &suffix,
                               DType dtype, SrcLoc loc, std::optional<double> forgetBias) {
  int64_t gh = gateCount(kind) * hiddenSize;
  double bound = 1.0 / std::sqrt(static_cast<double>(hiddenSize));
  Init init = init::uniform(-bound, bound); // PyTorch's default for every recurrent parameter
  CellParams p;
  p.weightIh = scope.param("weight_ih" + suffix, {gh, inputSize}, init, dtype, loc);
  p.weightHh = scope.param("weight_hh" + suffix, {gh, hiddenSize}, init, dtype, loc);
  if (bias) {
    p.biasIh =
        scope.param("bias_ih" + suffix, {gh},
                    forgetBias ? init::lstmForgetBias(hiddenSize, *forgetBias) : init, dtype, loc);
    p.biasHh = scope.param("bias_hh" + suffix, {gh}, forgetBias ? init::zeros() : init, dtype, loc);
  }
  return p;
}

Tensor rnnStep(const CellWeights &w, const Tensor &x, const Tensor &h, Nonlinearity nl,
               SrcLoc loc) {
  auto [gx, gh] = projections(w, x, h, loc);
  Tensor s = add(gx, gh, loc);
  return nl == Nonlinearity::Tanh ? tanh(s, loc) : relu(s, loc);
}

std::pair<Tensor, Tensor> lstmStep(const CellWeights &w, const Tensor &x, const Tensor &h,
                                   const Tensor &c, SrcLoc loc) {
  auto [gx, gh] = projections(w, x, h, loc);
  auto [i, f, g, o] = split<4>(add(gx, gh, loc), 1, loc);
  Tensor c2 = add(mul(sigmoid(f, loc), c, loc), mul(sigmoid(i, loc), tanh(g, loc), loc), loc);
  Tensor h2 = mul(sigmoid(o, loc), tanh(c2, loc), loc);
  return {h2, c2};
}

Tensor gruStep(const CellWeights &w, const Tensor &x, const Tensor &h, GruReset reset, SrcLoc loc) {
  if (reset == GruReset::AfterMatmul) {
    auto [gx, gh] = projections(w, x, h, loc);
    auto [xr, xz, xn] = split<3>(gx, 1, loc);
    auto [hr, hz, hn] = split<3>(gh, 1, loc);
    Tensor r = sigmoid(add(xr, hr, loc), loc);
    Tensor z = sigmoid(add(xz, hz, loc), loc);
    Tensor n = tanh(add(xn, mul(r, hn, loc), loc), loc);
    return add(mul((1.0 - At(z, loc)), n, loc), mul(z, h, loc), loc);
  }
  // Reset before the recurrent matmul: r and z use the first 2H columns of W_hh^T, n the last
  // H columns applied to r * h.
  int64_t gh3 = w.hiddenT.shape()[1].size(), hsz = gh3 / 3;
  Tensor gx = matmul(x, w.inputT, loc);
  if (w.inputBias.valid())
    gx = add(gx, w.inputBias, loc);
  auto [xr, xz, xn] = split<3>(gx, 1, loc);
  Tensor hrz = matmul(h, slice(w.hiddenT, 1, 0, 2 * hsz, loc), loc);
  Tensor hnW = slice(w.hiddenT, 1, 2 * hsz, gh3, loc);
  Tensor brz, bn;
  if (w.hiddenBias.valid()) {
    hrz = add(hrz, slice(w.hiddenBias, 0, 0, 2 * hsz, loc), loc);
    bn = slice(w.hiddenBias, 0, 2 * hsz, gh3, loc);
  }
  auto [hr, hz] = split<2>(hrz, 1, loc);
  Tensor r = sigmoid(add(xr, hr, loc), loc);
  Tensor z = sigmoid(add(xz, hz, loc), loc);
  Tensor hn = matmul(mul(r, h, loc), hnW, loc);
  if (bn.valid())
    hn = add(hn, bn, loc);
  Tensor n = tanh(add(xn, hn, loc), loc);
  return add(mul((1.0 - At(z, loc)), n, loc), mul(z, h, loc), loc);
}

RNNCell::RNNCell(const Scope &scope, int64_t inputSize, int64_t hiddenSize, Nonlinearity nl,
                 bool bias, DType dtype, SrcLoc loc)
    : p_(CellParams::declare(scope, CellKind::SimpleRNN, inputSize, hiddenSize, bias, "", dtype,
                             loc)),
      nl_(nl) {}

Tensor RNNCell::operator()(const Tensor &x, const Tensor &h, SrcLoc loc) const {
  return rnnStep(p_.weights(loc), x, h, nl_, loc);
}

LSTMCell::LSTMCell(const Scope &scope, int64_t inputSize, int64_t hiddenSize, bool bias,
                   DType dtype, SrcLoc loc)
    : p_(CellParams::declare(scope, CellKind::LSTM, inputSize, hiddenSize, bias, "", dtype, loc)) {}

std::pair<Tensor, Tensor> LSTMCell::operator()(const Tensor &x, const Tensor &h, const Tensor &c,
                                               SrcLoc loc) const {
  return lstmStep(p_.weights(loc), x, h, c, loc);
}

GRUCell::GRUCell(const Scope &scope, int64_t inputSize, int64_t hiddenSize, bool bias,
                 GruReset reset, DType dtype, SrcLoc loc)
    : p_(CellParams::declare(scope, CellKind::GRU, inputSize, hiddenSize, bias, "", dtype, loc)),
      reset_(reset) {}

Tensor GRUCell::operator()(const Tensor &x, const Tensor &h, SrcLoc loc) const {
  return gruStep(p_.weights(loc), x, h, reset_, loc);
}

} // namespace weft::nn
