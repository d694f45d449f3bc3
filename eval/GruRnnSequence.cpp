//===- eval/GruRnnSequence.cpp - the fused GRU and RNN sequences, step by step ===//
//
// The oracles for gru_sequence and rnn_sequence (docs/IR.md), written as the loops they
// replace. xs [T,B,I], h [B,H]; t runs T-1..0 when reverse; padded steps (t >= len[b]) keep h
// and emit 0.
//
//   gru_sequence (gates r, z, n of H columns each in wx [I,3H], wh [H,3H], bx, bh [3H]):
//     gx = x . wx + bx;  r = sigmoid(gx_r + (h . wh + bh)_r);  z likewise
//     n = tanh(gx_n + r * (h . wh_n + bh_n))       linear_before_reset = 1 (PyTorch, cuDNN)
//     n = tanh(gx_n + (r * h) . wh_n + bh_n)       linear_before_reset = 0 (Cho et al. 2014)
//     h = (1 - z) * n + z * h;  hs[t] = h
//   rnn_sequence: h = tanh(x . wx + h . wh + b) (relu with relu = 1);  hs[t] = h
//
// Pre-activations accumulate in double; h is stored in the op's dtype after every step, as
// the scan's carry is. gru_sequence {save_gates} also returns every step's r, z, n (and with
// linear_before_reset h . wh_n + bh_n) as gates[t, b], zero on padded steps.
//
//===----------------------------------------------------------------------===//
#include "eval/Kernels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace weft::eval::detail {
namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// Row `b` of `x` ([B, K] or one step of [T, B, K] at `offset`) times the columns [col, col +
/// width) of `w` [K, N], plus `bias` [N] from `col` when given, into `out`.
void affine(const Array &x, int64_t offset, int64_t k, const Array &w, const Array *bias,
            int64_t col, int64_t width, std::vector<double> &out) {
  const int64_t n = w.shape()[1];
  out.assign(static_cast<size_t>(width), 0.0);
  for (int64_t j = 0; j < width; ++j) {
    double acc = bias ? bias->getDouble(col + j) : 0.0;
    for (int64_t q = 0; q < k; ++q)
      acc += x.getDouble(offset + q) * w.getDouble(q * n + col + j);
    out[static_cast<size_t>(j)] = acc;
  }
}

} // namespace

Expected<std::vector<Array>> evalGruRnnSequence(const ir::Op &op, Operands xs) {
  const bool gru = op.kind() == ir::OpKind::GruSequence;
  const size_t base = gru ? 6 : 5;
  if (xs.size() != base && xs.size() != base + 1)
    return opError(op, fmt::format("expects {} or {} operands, got {}", base, base + 1, xs.size()));
  const Array &seq = *xs[0], &h0 = *xs[1], &wx = *xs[2], &wh = *xs[3], &bx = *xs[4];
  const Array *bh = gru ? xs[5] : nullptr;
  if (seq.rank() != 3 || h0.rank() != 2)
    return opError(op, fmt::format("xs must be [T, B, I] and h0 [B, H], got {} and {}",
                                   seq.typeStr(), h0.typeStr()));
  const int64_t steps = seq.shape()[0], batch = seq.shape()[1], in = seq.shape()[2];
  const int64_t hid = h0.shape()[1], gates = (gru ? 3 : 1) * hid;
  auto same = [](const Array &a, std::vector<int64_t> s) { return a.shape() == s; };
  if (h0.shape()[0] != batch || !same(wx, {in, gates}) || !same(wh, {hid, gates}) ||
      !same(bx, {gates}) || (bh && !same(*bh, {gates})))
    return opError(op, fmt::format("operands do not fit: xs {}, h0 {}, wx {}, wh {}, b {}",
                                   seq.typeStr(), h0.typeStr(), wx.typeStr(), wh.typeStr(),
                                   bx.typeStr()));
  std::vector<int64_t> lengths(batch, steps);
  if (xs.size() == base + 1) {
    const Array &len = *xs[base];
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
  const bool save = gru && op.saveGates();
  const int64_t saved = (gru && op.linearBeforeReset() ? 4 : 3) * hid;
  auto gateSeq = makeArray(seq.dtype(), {save ? steps : 0, batch, saved});
  WEFT_TRY(gateSeq.status());
  Array h = h0;
  std::vector<double> gx, gh, next(static_cast<size_t>(hid));
  for (int64_t s = 0; s < steps; ++s) {
    int64_t t = op.reverse() ? steps - 1 - s : s;
    for (int64_t b = 0; b < batch; ++b) {
      if (t >= lengths[b])
        continue; // hs stays zero, h keeps its value
      affine(seq, (t * batch + b) * in, in, wx, &bx, 0, gates, gx);
      if (!gru) {
        affine(h, b * hid, hid, wh, nullptr, 0, hid, gh);
        for (int64_t j = 0; j < hid; ++j) {
          double a = gx[j] + gh[j];
          next[j] = op.relu() ? std::max(a, 0.0) : std::tanh(a);
        }
      } else {
        affine(h, b * hid, hid, wh, bh, 0, gates, gh); // r, z (and n when linear_before_reset)
        std::vector<double> r(static_cast<size_t>(hid)), rh(static_cast<size_t>(hid)), hn;
        for (int64_t j = 0; j < hid; ++j) {
          r[j] = sigmoid(gx[j] + gh[j]);
          rh[j] = r[j] * h.getDouble(b * hid + j);
        }
        if (!op.linearBeforeReset()) { // (r * h) . wh_n + bh_n
          Array rha(seq.dtype(), {hid});
          for (int64_t j = 0; j < hid; ++j)
            rha.setDouble(j, rh[j]);
          affine(rha, 0, hid, wh, bh, 2 * hid, hid, hn);
        }
        for (int64_t j = 0; j < hid; ++j) {
          double z = sigmoid(gx[hid + j] + gh[hid + j]);
          double a = gx[2 * hid + j] + (op.linearBeforeReset() ? r[j] * gh[2 * hid + j] : hn[j]);
          double n = std::tanh(a);
          next[j] = (1 - z) * n + z * h.getDouble(b * hid + j);
          if (!save)
            continue;
          const double act[4] = {r[j], z, n, gh[2 * hid + j]};
          for (int64_t q = 0; q < saved / hid; ++q)
            gateSeq->setDouble((t * batch + b) * saved + q * hid + j, act[q]);
        }
      }
      for (int64_t j = 0; j < hid; ++j) {
        h.setDouble(b * hid + j, next[j]);
        hs->setDouble((t * batch + b) * hid + j, h.getDouble(b * hid + j));
      }
    }
  }
  std::vector<Array> out;
  out.push_back(std::move(*hs));
  out.push_back(std::move(h));
  if (save)
    out.push_back(std::move(*gateSeq));
  return out;
}

} // namespace weft::eval::detail
