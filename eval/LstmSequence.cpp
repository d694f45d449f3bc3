//===- eval/LstmSequence.cpp - the fused LSTM sequence, step by step ------===//
//
// The oracle for lstm_sequence (docs/IR.md), written as the loop it replaces:
//
//   for t in 0..T-1 (T-1..0 when reverse):           xs [T,B,I], h, c [B,H]
//     for b with t < len[b]:                           padded steps keep h, c; emit 0
//       z = xs[t,b] . wx + h[b] . wh + bias            [4H], gates i, f, g, o
//       c[b] = sigmoid(z_f) * c[b] + sigmoid(z_i) * tanh(z_g)
//       h[b] = sigmoid(z_o) * tanh(c[b]);  hs[t,b] = h[b]
//
// Each step's pre-activations accumulate in double; h and c are stored in the op's dtype after
// every step, as the scan's carries are. With {save_gates} it also returns every step's
// activated gates (gates[t, b] = i, f, g, o) and c (cs[t, b]), zero on padded steps.
//
//===----------------------------------------------------------------------===//
#include "eval/Kernels.h"

#include <fmt/format.h>

#include <cmath>

namespace weft::eval::detail {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

} // namespace

Expected<std::vector<Array>> evalLstmSequence(const ir::Op &op, Operands xs) {
  if (xs.size() != 6 && xs.size() != 7)
    return opError(op, fmt::format("expects 6 or 7 operands, got {}", xs.size()));
  const Array &seq = *xs[0], &h0 = *xs[1], &c0 = *xs[2], &wx = *xs[3], &wh = *xs[4], &bias = *xs[5];
  if (seq.rank() != 3 || h0.rank() != 2)
    return opError(op, fmt::format("xs must be [T, B, I] and h0 [B, H], got {} and {}",
                                   seq.typeStr(), h0.typeStr()));
  const int64_t steps = seq.shape()[0], batch = seq.shape()[1], in = seq.shape()[2];
  const int64_t hid = h0.shape()[1], gates = 4 * hid;
  auto same = [](const Array &a, std::vector<int64_t> s) { return a.shape() == s; };
  if (h0.shape()[0] != batch || !same(c0, {batch, hid}) || !same(wx, {in, gates}) ||
      !same(wh, {hid, gates}) || !same(bias, {gates}))
    return opError(op, fmt::format("operands do not fit: xs {}, h0 {}, c0 {}, wx {}, wh {}, b {}",
                                   seq.typeStr(), h0.typeStr(), c0.typeStr(), wx.typeStr(),
                                   wh.typeStr(), bias.typeStr()));
  std::vector<int64_t> lengths(batch, steps);
  if (xs.size() == 7) {
    const Array &len = *xs[6];
    if (len.numel() != batch)
      return opError(op, fmt::format("lengths {} do not match batch {}", len.typeStr(), batch));
    for (int64_t b = 0; b < batch; ++b) {
      lengths[b] = len.getInt(b);
      if (lengths[b] < 0 || lengths[b] > steps)
        return opError(
            op, fmt::format("length {} of example {} is outside [0, {}]", lengths[b], b, steps));
    }
  }
  auto hs = makeArray(seq.dtype(), {steps, batch, hid});
  WEFT_TRY(hs.status());
  const bool save = op.saveGates();
  auto gateSeq = makeArray(seq.dtype(), {save ? steps : 0, batch, gates});
  WEFT_TRY(gateSeq.status());
  auto cs = makeArray(seq.dtype(), {save ? steps : 0, batch, hid});
  WEFT_TRY(cs.status());
  Array h = h0, c = c0;
  std::vector<double> z(gates);
  for (int64_t s = 0; s < steps; ++s) {
    int64_t t = op.reverse() ? steps - 1 - s : s;
    for (int64_t b = 0; b < batch; ++b) {
      if (t >= lengths[b])
        continue; // hs stays zero, h and c keep their values
      for (int64_t n = 0; n < gates; ++n) {
        double acc = bias.getDouble(n);
        for (int64_t k = 0; k < in; ++k)
          acc += seq.getDouble((t * batch + b) * in + k) * wx.getDouble(k * gates + n);
        for (int64_t k = 0; k < hid; ++k)
          acc += h.getDouble(b * hid + k) * wh.getDouble(k * gates + n);
        z[n] = acc;
      }
      for (int64_t j = 0; j < hid; ++j) {
        double i = sigmoid(z[j]), f = sigmoid(z[hid + j]), g = std::tanh(z[2 * hid + j]),
               o = sigmoid(z[3 * hid + j]);
        c.setDouble(b * hid + j, f * c.getDouble(b * hid + j) + i * g);
        h.setDouble(b * hid + j, o * std::tanh(c.getDouble(b * hid + j)));
        hs->setDouble((t * batch + b) * hid + j, h.getDouble(b * hid + j));
        if (!save)
          continue;
        const double act[4] = {i, f, g, o};
        for (int64_t q = 0; q < 4; ++q)
          gateSeq->setDouble((t * batch + b) * gates + q * hid + j, act[q]);
        cs->setDouble((t * batch + b) * hid + j, c.getDouble(b * hid + j));
      }
    }
  }
  std::vector<Array> out;
  out.push_back(std::move(*hs));
  out.push_back(std::move(h));
  out.push_back(std::move(c));
  if (save) {
    out.push_back(std::move(*gateSeq));
    out.push_back(std::move(*cs));
  }
  return out;
}

} // namespace weft::eval::detail
