//===- passes/LstmCellMatch.h - an LSTM cell in a loop body --------*- C++ -*-===//
//
// What fuse-lstm and fuse-lstm-attention share: the LSTM cell
//
//   c2 = sigmoid(z_f) * c + sigmoid(z_i) * tanh(z_g)       (any operand order)
//   h2 = sigmoid(z_o) * tanh(c2)
//
// with each pre-activation z_k [B, H] a sum of affine terms of x and h (passes/CellMatch.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/CellMatch.h"

#include <array>
#include <optional>

namespace weft::passes::cell {

class LstmCellMatcher : public BodyMatcher {
public:
  LstmCellMatcher(ir::Block &body, ir::Value *x, ir::Value *h, ir::Value *c)
      : BodyMatcher(body, x, h), c_(c) {}

  /// The four gates' terms, i f g o, when `h2` and `c2` compute the cell; nullopt otherwise.
  std::optional<std::array<std::vector<Term>, 4>> match(ir::Value *h2, ir::Value *c2) {
    using ir::OpKind;
    using ir::Value;
    // h2 = sigmoid(z_o) * tanh(c2)
    auto h2ops = operandsOf(h2, OpKind::Mul);
    if (!h2ops)
      return std::nullopt;
    auto [a, b] = *h2ops;
    if (!isUnary(b, OpKind::Tanh, c2))
      std::swap(a, b);
    if (!isUnary(b, OpKind::Tanh, c2))
      return std::nullopt;
    Value *zo = unaryOperand(a, OpKind::Sigmoid);
    // c2 = sigmoid(z_f) * c + sigmoid(z_i) * tanh(z_g)
    auto c2ops = operandsOf(c2, OpKind::Add);
    if (!zo || !c2ops)
      return std::nullopt;
    auto [p, q] = *c2ops;
    if (!mulWith(p, c_))
      std::swap(p, q);
    auto fc = mulWith(p, c_);
    auto ig = operandsOf(q, OpKind::Mul);
    if (!fc || !ig)
      return std::nullopt;
    Value *zf = unaryOperand(*fc, OpKind::Sigmoid);
    auto [u, v] = *ig;
    if (!unaryOperand(u, OpKind::Sigmoid))
      std::swap(u, v);
    Value *zi = unaryOperand(u, OpKind::Sigmoid), *zg = unaryOperand(v, OpKind::Tanh);
    if (!zf || !zi || !zg)
      return std::nullopt;
    std::array<std::vector<Term>, 4> gates;
    Value *z[4] = {zi, zf, zg, zo};
    for (int k = 0; k < 4; ++k) {
      if (!terms(z[k], 0, gates[k]) || !oneEach(gates[k]))
        return std::nullopt;
    }
    return gates;
  }

private:
  ir::Value *c_;
};

/// Whether every gate has as many bias terms, as the fused op's one bias needs.
inline bool sameBiasCount(const std::array<std::vector<Term>, 4> &gates) {
  size_t n = BodyMatcher::countOf(gates[0], Source::Bias);
  for (const auto &gt : gates)
    if (BodyMatcher::countOf(gt, Source::Bias) != n)
      return false;
  return true;
}

/// lstm_sequence's weights, gathered by `ob` in the gate order i, f, g, o.
struct LstmWeights {
  ir::Value *wx, *wh, *bias;
};
inline Expected<LstmWeights>
gatherLstmWeights(OperandBuilder &ob, const std::array<std::vector<Term>, 4> &gates, DType dtype) {
  auto wx = ob.gather(pick(gates, Source::Input));
  WEFT_TRY(wx.status());
  auto wh = ob.gather(pick(gates, Source::Hidden));
  WEFT_TRY(wh.status());
  std::vector<std::vector<Term>> biases;
  for (const auto &gt : gates) {
    biases.emplace_back();
    for (const Term &t : gt)
      if (t.source == Source::Bias)
        biases.back().push_back(t);
  }
  auto bias = ob.gatherBias(biases, dtype);
  WEFT_TRY(bias.status());
  return LstmWeights{*wx, *wh, *bias};
}

} // namespace weft::passes::cell
