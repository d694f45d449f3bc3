//===- eval/GruRnnSequenceGrad.cpp - gru/rnn_sequence's gradients, step by step ===//
//
// The oracles for gru_sequence_grad and rnn_sequence_grad (docs/IR.md). Each example b is its
// own recurrence (only the weights are shared), so b is the outer loop; its steps t_0, t_1, ...
// are those with t < len[b], in the forward's order (descending with reverse). The h a step
// started from, hp_k, is h0[b] at k = 0, else hs[t_(k-1), b]; the GRU's forward is recomputed
// from it as eval/GruRnnSequence.cpp computes it (the RNN's f' needs only h = hs[t_k, b]).
// Backward, k = n-1 .. 0, dh = dhT[b] to start:
//
//   dht = dh + dhs[t_k, b]
//   rnn:  da = dht (1 - h^2)  (relu: dht where h > 0, i.e. a > 0);  dgx = dgh = da
//   gru:  dn = dht (1 - z) (1 - n^2);  dz = dht (hp - n) z (1 - z)
//         PyTorch's form (n = tanh(gx_n + r gh_n), gh_n = hp . wh_n + bh_n):
//           dr = dn gh_n r (1 - r);  dgx = (dr, dz, dn);  dgh = (dr, dz, dn r)
//           dh = dht z + dgh . wh^T;  dwh += hp^T dgh
//         Cho's (n = tanh(gx_n + (r hp) . wh_n + bh_n)):  drh = dn . wh_n^T
//           dr = drh hp r (1 - r);  dgx = dgh = (dr, dz, dn)
//           dh = dht z + drh r + (dr, dz) . wh_rz^T;  dwh_rz += hp^T (dr, dz);  dwh_n += (r hp)^T
//           dn
//   dxs[t_k, b] = dgx . wx^T;  dwx += x^T dgx;  dbx += dgx;  dbh += dgh
// then dh0[b] = dh; padded steps have dxs = 0. gru_sequence_grad {save_gates} reads r, z, n
// (and gh_n) from its operand gates, which the training form of gru_sequence saved, instead of
// recomputing the forward.
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

Expected<std::vector<Array>> evalGruRnnSequenceGrad(const ir::Op &op, Operands xs) {
  const bool gru = op.kind() == ir::OpKind::GruSequenceGrad;
  const size_t base = gru ? 6 : 5;
  const bool saved = gru && op.saveGates();
  const size_t fixed = base + (saved ? 4 : 3);
  if (xs.size() != fixed && xs.size() != fixed + 1)
    return opError(op,
                   fmt::format("expects {} or {} operands, got {}", fixed, fixed + 1, xs.size()));
  const Array &seq = *xs[0], &h0 = *xs[1], &wx = *xs[2], &wh = *xs[3], &bx = *xs[4];
  const Array *bh = gru ? xs[5] : nullptr;
  const Array &hs = *xs[base], &dhs = *xs[base + 1], &dhT = *xs[base + 2];
  if (seq.rank() != 3 || h0.rank() != 2)
    return opError(op, fmt::format("xs must be [T, B, I] and h0 [B, H], got {} and {}",
                                   seq.typeStr(), h0.typeStr()));
  const int64_t steps = seq.shape()[0], batch = seq.shape()[1], in = seq.shape()[2];
  const int64_t hid = h0.shape()[1], gates = (gru ? 3 : 1) * hid;
  auto same = [](const Array &a, std::vector<int64_t> s) { return a.shape() == s; };
  std::vector<int64_t> state = {batch, hid}, seqState = {steps, batch, hid};
  if (h0.shape()[0] != batch || !same(wx, {in, gates}) || !same(wh, {hid, gates}) ||
      !same(bx, {gates}) || (bh && !same(*bh, {gates})) || !same(hs, seqState) ||
      !same(dhs, seqState) || !same(dhT, state) ||
      (saved && !same(*xs[base + 3], {steps, batch, (op.linearBeforeReset() ? 4 : 3) * hid})))
    return opError(op, fmt::format("operands do not fit: xs {}, h0 {}, wx {}, wh {}, b {}, hs {}, "
                                   "dhs {}, dhT {}",
                                   seq.typeStr(), h0.typeStr(), wx.typeStr(), wh.typeStr(),
                                   bx.typeStr(), hs.typeStr(), dhs.typeStr(), dhT.typeStr()));
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
  const bool pytorch = gru && op.linearBeforeReset();
  auto dxs = makeArray(seq.dtype(), seq.shape());
  WEFT_TRY(dxs.status());
  std::vector<double> dwx(in * gates), dwh(hid * gates), dbx(gates), dbh(gates);
  Array dh0 = h0;
  auto W = [&](const Array &w, int64_t i, int64_t q) { return w.getDouble(i * gates + q); };
  const int64_t savedWidth = (pytorch ? 4 : 3) * hid;
  auto savedGate = [&](int64_t t, int64_t b, int64_t q, int64_t j) {
    return xs[base + 3]->getDouble((t * batch + b) * savedWidth + q * hid + j);
  };
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t n = lengths[b];
    std::vector<int64_t> ts(n);
    for (int64_t k = 0; k < n; ++k)
      ts[k] = op.reverse() ? n - 1 - k : k;
    std::vector<double> dh(hid), hp(hid), x(in), gx(gates), gh(gates), dgx(gates), dgh(gates),
        rh(hid), drh(hid);
    for (int64_t j = 0; j < hid; ++j)
      dh[j] = dhT.getDouble(b * hid + j);
    for (int64_t k = n - 1; k >= 0; --k) {
      const int64_t t = ts[k];
      // The forward of step k, from the h it started from.
      for (int64_t j = 0; j < hid; ++j)
        hp[j] =
            k == 0 ? h0.getDouble(b * hid + j) : hs.getDouble((ts[k - 1] * batch + b) * hid + j);
      for (int64_t i = 0; i < in; ++i)
        x[i] = seq.getDouble((t * batch + b) * in + i);
      for (int64_t q = 0; q < gates && gru && !saved; ++q) {
        gx[q] = bx.getDouble(q);
        for (int64_t i = 0; i < in; ++i)
          gx[q] += x[i] * W(wx, i, q);
        gh[q] = bh ? bh->getDouble(q) : 0.0;
        for (int64_t i = 0; i < hid; ++i)
          gh[q] += hp[i] * W(wh, i, q);
      }
      if (!gru) {
        for (int64_t j = 0; j < hid; ++j) {
          const int64_t at = (t * batch + b) * hid + j;
          double h = hs.getDouble(at), dht = dh[j] + dhs.getDouble(at);
          dgx[j] = dgh[j] = op.relu() ? (h > 0 ? dht : 0.0) : dht * (1 - h * h);
        }
        std::fill(dh.begin(), dh.end(), 0.0);
      } else {
        std::vector<double> r(hid), z(hid), nn(hid), dht(hid);
        for (int64_t j = 0; j < hid; ++j) {
          r[j] = saved ? savedGate(t, b, 0, j) : sigmoid(gx[j] + gh[j]);
          z[j] = saved ? savedGate(t, b, 1, j) : sigmoid(gx[hid + j] + gh[hid + j]);
          rh[j] = r[j] * hp[j];
          if (saved && pytorch)
            gh[2 * hid + j] = savedGate(t, b, 3, j);
        }
        for (int64_t j = 0; saved && j < hid; ++j)
          nn[j] = savedGate(t, b, 2, j);
        for (int64_t j = 0; !saved && j < hid; ++j) {
          double an = gx[2 * hid + j];
          if (pytorch) {
            an += r[j] * gh[2 * hid + j];
          } else {
            an += bh->getDouble(2 * hid + j);
            for (int64_t i = 0; i < hid; ++i)
              an += rh[i] * W(wh, i, 2 * hid + j);
          }
          nn[j] = std::tanh(an);
        }
        for (int64_t j = 0; j < hid; ++j) {
          dht[j] = dh[j] + dhs.getDouble((t * batch + b) * hid + j);
          double dn = dht[j] * (1 - z[j]) * (1 - nn[j] * nn[j]);
          dgx[hid + j] = dgh[hid + j] = dht[j] * (hp[j] - nn[j]) * z[j] * (1 - z[j]);
          dgx[2 * hid + j] = dn;
          dgh[2 * hid + j] = pytorch ? dn * r[j] : dn;
          if (pytorch)
            dgx[j] = dgh[j] = dn * gh[2 * hid + j] * r[j] * (1 - r[j]);
        }
        if (!pytorch)
          for (int64_t i = 0; i < hid; ++i) {
            drh[i] = 0;
            for (int64_t q = 0; q < hid; ++q)
              drh[i] += dgx[2 * hid + q] * W(wh, i, 2 * hid + q);
            dgx[i] = dgh[i] = drh[i] * hp[i] * r[i] * (1 - r[i]);
          }
        for (int64_t j = 0; j < hid; ++j)
          dh[j] = dht[j] * z[j] + (pytorch ? 0.0 : drh[j] * r[j]);
      }
      // dh += dgh . wh^T, over the columns that multiply hp (Cho's n columns multiply r hp).
      const int64_t hpCols = pytorch || !gru ? gates : 2 * hid;
      for (int64_t i = 0; i < hid; ++i)
        for (int64_t q = 0; q < hpCols; ++q) {
          dh[i] += dgh[q] * W(wh, i, q);
          dwh[i * gates + q] += hp[i] * dgh[q];
        }
      for (int64_t i = 0; i < hid; ++i)
        for (int64_t q = hpCols; q < gates; ++q)
          dwh[i * gates + q] += rh[i] * dgh[q];
      for (int64_t i = 0; i < in; ++i) {
        double acc = 0;
        for (int64_t q = 0; q < gates; ++q) {
          acc += dgx[q] * W(wx, i, q);
          dwx[i * gates + q] += x[i] * dgx[q];
        }
        dxs->setDouble((t * batch + b) * in + i, acc);
      }
      for (int64_t q = 0; q < gates; ++q) {
        dbx[q] += dgx[q];
        dbh[q] += dgh[q];
      }
    }
    for (int64_t j = 0; j < hid; ++j)
      dh0.setDouble(b * hid + j, dh[j]);
  }
  auto store = [](Array a, const std::vector<double> &v) {
    for (int64_t i = 0; i < a.numel(); ++i)
      a.setDouble(i, v[static_cast<size_t>(i)]);
    return a;
  };
  std::vector<Array> out;
  out.push_back(std::move(*dxs));
  out.push_back(std::move(dh0));
  out.push_back(store(wx, dwx));
  out.push_back(store(wh, dwh));
  out.push_back(store(bx, dbx));
  if (gru)
    out.push_back(store(*bh, dbh));
  return out;
}

} // namespace weft::eval::detail
