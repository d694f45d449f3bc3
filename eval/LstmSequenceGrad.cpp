//===- eval/LstmSequenceGrad.cpp - lstm_sequence's gradient, step by step -===//
//
// The oracle for lstm_sequence_grad (docs/IR.md). Each example b is its own recurrence
// (only the weights are shared), so b is the outer loop; its steps t_0, t_1, ... are those
// with t < len[b], in the forward's order (descending with reverse):
//
//   forward, from hs:     hp_k = k == 0 ? h0[b] : hs[t_(k-1), b]
//                         z = xs[t_k, b] . wx + hp_k . wh + bias;  i, f, g, o;  c_k as
//                         lstm_sequence
//   backward, k = n-1..0: dh += dhs[t_k, b];  tc = tanh(c_k)
//                         dc += dh o (1 - tc^2);  dzo = dh tc o (1 - o)
//                         dzi = dc g i (1 - i);  dzf = dc c_(k-1) f (1 - f);  dzg = dc i (1 - g^2)
//                         dxs[t_k, b] = dz . wx^T;  dwx += xs[t_k, b]^T dz;  dwh += hp_k^T dz
//                         db += dz;  dh = dz . wh^T;  dc = dc f
//   dh0[b] = dh, dc0[b] = dc (dhT and dcT to start); padded steps have dxs = 0.
// With {save_gates} the forward's activated gates and c come from the operands gates and cs
// (the training form of lstm_sequence saved them) instead of being recomputed.
//
// Everything is computed in double and stored in the op's dtype at the end.
//
//===----------------------------------------------------------------------===//
#include "eval/Kernels.h"

#include <fmt/format.h>

#include <cmath>

namespace weft::eval::detail {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

} // namespace

Expected<std::vector<Array>> evalLstmSequenceGrad(const ir::Op &op, Operands xs) {
  const bool saved = op.saveGates();
  const size_t fixed = saved ? 12 : 10;
  if (xs.size() != fixed && xs.size() != fixed + 1)
    return opError(op,
                   fmt::format("expects {} or {} operands, got {}", fixed, fixed + 1, xs.size()));
  const Array &seq = *xs[0], &h0 = *xs[1], &c0 = *xs[2], &wx = *xs[3], &wh = *xs[4], &bias = *xs[5],
              &hs = *xs[6], &dhs = *xs[7], &dhT = *xs[8], &dcT = *xs[9];
  if (seq.rank() != 3 || h0.rank() != 2)
    return opError(op, fmt::format("xs must be [T, B, I] and h0 [B, H], got {} and {}",
                                   seq.typeStr(), h0.typeStr()));
  const int64_t steps = seq.shape()[0], batch = seq.shape()[1], in = seq.shape()[2];
  const int64_t hid = h0.shape()[1], gates = 4 * hid;
  auto same = [](const Array &a, std::vector<int64_t> s) { return a.shape() == s; };
  std::vector<int64_t> state = {batch, hid}, seqState = {steps, batch, hid};
  if (h0.shape()[0] != batch || !same(c0, state) || !same(wx, {in, gates}) ||
      !same(wh, {hid, gates}) || !same(bias, {gates}) || !same(hs, seqState) ||
      !same(dhs, seqState) || !same(dhT, state) || !same(dcT, state) ||
      (saved && (!same(*xs[10], {steps, batch, gates}) || !same(*xs[11], seqState))))
    return opError(op, fmt::format("operands do not fit: xs {}, h0 {}, c0 {}, wx {}, wh {}, b {}, "
                                   "hs {}, dhs {}, dhT {}, dcT {}",
                                   seq.typeStr(), h0.typeStr(), c0.typeStr(), wx.typeStr(),
                                   wh.typeStr(), bias.typeStr(), hs.typeStr(), dhs.typeStr(),
                                   dhT.typeStr(), dcT.typeStr()));
  std::vector<int64_t> lengths(batch, steps);
  if (xs.size() == fixed + 1) {
    const Array &len = *xs[fixed];
    if (len.numel() != batch)
      return opError(op, fmt::format("lengths {} do not match batch {}", len.typeStr(), batch));
    for (int64_t b = 0; b < batch; ++b) {
      lengths[b] = len.getInt(b);
      if (lengths[b] < 0 || lengths[b] > steps)
        return opError(
            op, fmt::format("length {} of example {} is outside [0, {}]", lengths[b], b, steps));
    }
  }
  auto dxs = makeArray(seq.dtype(), seq.shape());
  WEFT_TRY(dxs.status());
  std::vector<double> dwx(in * gates), dwh(hid * gates), db(gates);
  Array dh0 = h0, dc0 = c0;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t n = lengths[b];
    std::vector<int64_t> ts(n);
    for (int64_t k = 0; k < n; ++k)
      ts[k] = op.reverse() ? n - 1 - k : k;
    // Forward: the previous h (from hs), the activated gates and c of each step.
    std::vector<double> hp(n * hid), act(n * gates), cs((n + 1) * hid); // cs[0] = c0
    for (int64_t j = 0; j < hid; ++j)
      cs[j] = c0.getDouble(b * hid + j);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t t = ts[k];
      for (int64_t j = 0; j < hid; ++j)
        hp[k * hid + j] =
            k == 0 ? h0.getDouble(b * hid + j) : hs.getDouble((ts[k - 1] * batch + b) * hid + j);
      if (saved) {
        for (int64_t q = 0; q < gates; ++q)
          act[k * gates + q] = xs[10]->getDouble((t * batch + b) * gates + q);
        for (int64_t j = 0; j < hid; ++j)
          cs[(k + 1) * hid + j] = xs[11]->getDouble((t * batch + b) * hid + j);
        continue;
      }
      for (int64_t q = 0; q < gates; ++q) {
        double acc = bias.getDouble(q);
        for (int64_t i = 0; i < in; ++i)
          acc += seq.getDouble((t * batch + b) * in + i) * wx.getDouble(i * gates + q);
        for (int64_t i = 0; i < hid; ++i)
          acc += hp[k * hid + i] * wh.getDouble(i * gates + q);
        act[k * gates + q] = q >= 2 * hid && q < 3 * hid ? std::tanh(acc) : sigmoid(acc);
      }
      for (int64_t j = 0; j < hid; ++j) {
        const double *a = &act[k * gates];
        cs[(k + 1) * hid + j] = a[hid + j] * cs[k * hid + j] + a[j] * a[2 * hid + j];
      }
    }
    // Backward.
    std::vector<double> dh(hid), dc(hid), dz(gates);
    for (int64_t j = 0; j < hid; ++j) {
      dh[j] = dhT.getDouble(b * hid + j);
      dc[j] = dcT.getDouble(b * hid + j);
    }
    for (int64_t k = n - 1; k >= 0; --k) {
      const int64_t t = ts[k];
      const double *a = &act[k * gates];
      for (int64_t j = 0; j < hid; ++j) {
        double i = a[j], f = a[hid + j], g = a[2 * hid + j], o = a[3 * hid + j];
        double dht = dh[j] + dhs.getDouble((t * batch + b) * hid + j);
        double tc = std::tanh(cs[(k + 1) * hid + j]);
        double dct = dc[j] + dht * o * (1 - tc * tc);
        dz[j] = dct * g * i * (1 - i);
        dz[hid + j] = dct * cs[k * hid + j] * f * (1 - f);
        dz[2 * hid + j] = dct * i * (1 - g * g);
        dz[3 * hid + j] = dht * tc * o * (1 - o);
        dc[j] = dct * f;
      }
      for (int64_t i = 0; i < in; ++i) {
        double x = seq.getDouble((t * batch + b) * in + i), acc = 0;
        for (int64_t q = 0; q < gates; ++q) {
          acc += dz[q] * wx.getDouble(i * gates + q);
          dwx[i * gates + q] += x * dz[q];
        }
        dxs->setDouble((t * batch + b) * in + i, acc);
      }
      for (int64_t i = 0; i < hid; ++i) {
        double acc = 0;
        for (int64_t q = 0; q < gates; ++q) {
          acc += dz[q] * wh.getDouble(i * gates + q);
          dwh[i * gates + q] += hp[k * hid + i] * dz[q];
        }
        dh[i] = acc;
      }
      for (int64_t q = 0; q < gates; ++q)
        db[q] += dz[q];
    }
    for (int64_t j = 0; j < hid; ++j) {
      dh0.setDouble(b * hid + j, dh[j]);
      dc0.setDouble(b * hid + j, dc[j]);
    }
  }
  Array dwxA = wx, dwhA = wh, dbA = bias;
  for (int64_t i = 0; i < in * gates; ++i)
    dwxA.setDouble(i, dwx[i]);
  for (int64_t i = 0; i < hid * gates; ++i)
    dwhA.setDouble(i, dwh[i]);
  for (int64_t q = 0; q < gates; ++q)
    dbA.setDouble(q, db[q]);
  std::vector<Array> out;
  out.push_back(std::move(*dxs));
  out.push_back(std::move(dh0));
  out.push_back(std::move(dc0));
  out.push_back(std::move(dwxA));
  out.push_back(std::move(dwhA));
  out.push_back(std::move(dbA));
  return out;
}

} // namespace weft::eval::detail
