//===- ir/InferLstm.cpp - typing rules of the LSTM ops ---------------------===//
//
// lstm_sequence, lstm_sequence_grad and lstm_attention_step, and the checks every recurrent
// sequence op shares with gru/rnn_sequence (InferGruRnn.cpp).
//
//===----------------------------------------------------------------------===//
#include "ir/InferDetail.h"

#include <fmt/format.h>

namespace weft::ir::detail {

Expected<SequenceDims> sequenceDims(OpKind k, const Type &xs, const Type &h0) {
  WEFT_TRY(checkDType(k, xs, "xs"));
  if (xs.rank() != 3 || h0.rank() != 2)
    return opError(k, fmt::format("xs must be [T, B, I] and h0 [B, H], got {} and {}",
                                  xs.shapeStr(), h0.shapeStr()));
  if (!h0.dim(1).isStatic())
    return opError(k, fmt::format("the hidden size must be static, got {}", h0.dim(1).str()));
  return SequenceDims{xs.dim(1), xs.dim(2), h0.dim(1)};
}

Status checkSequenceOperands(OpKind k, std::span<Value *const> ops, std::span<const Type> want,
                             std::span<const char *const> names) {
  for (size_t i = 1; i < want.size(); ++i)
    if (ops[i]->type() != want[i])
      return opError(k,
                     fmt::format("{} must be {} (xs {}, h0 {}), got {}", names[i], want[i].str(),
                                 ops[0]->type().str(), ops[1]->type().str(), ops[i]->type().str()));
  return {};
}

Status checkSequenceLengths(OpKind k, const Type &len, const Dim &batch) {
  if (len.rank() != 1 || len.dim(0) != batch ||
      (len.dtype() != DType::I32 && len.dtype() != DType::I64))
    return opError(
        k, fmt::format("lengths must be tensor<{} x i32|i64>, got {}", batch.str(), len.str()));
  return {};
}

/// lstm_sequence %xs[T,B,I], %h0[B,H], %c0[B,H], %wx[I,4H], %wh[H,4H], %b[4H] [, %len[B]];
/// {save_gates} adds the results gates[T,B,4H] and cs[T,B,H].
Expected<Types> inferLstmSequence(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::LstmSequence;
  if (ops.size() != 6 && ops.size() != 7)
    return opError(k, fmt::format("expects 6 operands (xs, h0, c0, wx, wh, b) and optional "
                                  "lengths, got {}",
                                  ops.size()));
  const Type &xs = ops[0]->type();
  auto dims = sequenceDims(k, xs, ops[1]->type());
  WEFT_TRY(dims.status());
  const Dim &batch = dims->batch, &in = dims->in, &hidden = dims->hidden;
  Dim gates(4 * hidden.size());
  const char *names[] = {"xs", "h0", "c0", "wx", "wh", "b"};
  std::vector<Type> want = {xs,
                            Type({batch, hidden}, xs.dtype()),
                            Type({batch, hidden}, xs.dtype()),
                            Type({in, gates}, xs.dtype()),
                            Type({hidden, gates}, xs.dtype()),
                            Type({gates}, xs.dtype())};
  WEFT_TRY(checkSequenceOperands(k, ops, want, names));
  if (ops.size() == 7)
    WEFT_TRY(checkSequenceLengths(k, ops[6]->type(), batch));
  Types out{Type({xs.dim(0), batch, hidden}, xs.dtype()), want[1], want[2]};
  if (flag(attrs, AttrId::SaveGates)) {
    out.push_back(Type({xs.dim(0), batch, gates}, xs.dtype()));
    out.push_back(out[0]);
  }
  return out;
}

/// lstm_sequence_grad %xs, %h0, %c0, %wx, %wh, %b, %hs[T,B,H], %dhs[T,B,H], %dhT[B,H],
/// %dcT[B,H] [, %gates[T,B,4H], %cs[T,B,H] with {save_gates}] [, %len]: the forward's operands
/// as lstm_sequence checks them, its hs (gates and cs) and the adjoints of its three results;
/// results dxs, dh0, dc0, dwx, dwh, db (the operands' types).
Expected<Types> inferLstmSequenceGrad(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::LstmSequenceGrad;
  const bool saved = flag(attrs, AttrId::SaveGates);
  const size_t fixed = saved ? 12 : 10;
  if (ops.size() != fixed && ops.size() != fixed + 1)
    return opError(k, fmt::format("expects {} operands (xs, h0, c0, wx, wh, b, hs, dhs, dhT, "
                                  "dcT{}) and optional lengths, got {}",
                                  fixed, saved ? ", gates, cs" : "", ops.size()));
  std::vector<Value *> forward(ops.begin(), ops.begin() + 6);
  if (ops.size() == fixed + 1)
    forward.push_back(ops[fixed]);
  auto fwd = inferLstmSequence(forward, {{std::string(attrKey(AttrId::SaveGates)), int64_t{1}}});
  if (!fwd)
    return opError(k, fwd.diag().message);
  const Types &r = *fwd; // hs, hT, cT, gates, cs
  const char *names[] = {"hs", "dhs", "dhT", "dcT", "gates", "cs"};
  const Type *want[] = {&r[0], &r[0], &r[1], &r[2], &r[3], &r[4]};
  for (size_t i = 0; i < fixed - 6; ++i)
    if (ops[6 + i]->type() != *want[i])
      return opError(k, fmt::format("{} must be {}, got {}", names[i], want[i]->str(),
                                    ops[6 + i]->type().str()));
  Types out;
  for (size_t i = 0; i < 6; ++i)
    out.push_back(ops[i]->type());
  return out;
}

/// lstm_attention_step %x[B,I], %h[B,H], %c[B,H], %wx[I,4H], %wh[H,4H], %b[4H], %wq[H,A],
/// %kp[B,S,A], %v[A], %values[B,S,D], %wa[H+D,N] (, %mask[B,S]); with {luong}, no %wq and a
/// scale %g[] for %v, A = H. Results h2, c2 [B,H], att [B,N], weights [B,S].
Expected<Types> inferLstmAttentionStep(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::LstmAttentionStep;
  bool luong = attrs.count("luong") && std::get<int64_t>(attrs.at("luong")) != 0;
  const size_t base = luong ? 10 : 11;
  if (ops.size() != base && ops.size() != base + 1)
    return opError(k, fmt::format("expects {} operands ({}) and an optional mask, got {}", base,
                                  luong ? "x, h, c, wx, wh, b, kp, g, values, wa"
                                        : "x, h, c, wx, wh, b, wq, kp, v, values, wa",
                                  ops.size()));
  const Type &x = ops[0]->type(), &h = ops[1]->type();
  WEFT_TRY(checkDType(k, x, "x"));
  if (x.rank() != 2 || h.rank() != 2)
    return opError(
        k, fmt::format("x must be [B, I] and h [B, H], got {} and {}", x.shapeStr(), h.shapeStr()));
  const Dim &batch = x.dim(0), &in = x.dim(1), &hidden = h.dim(1);
  const size_t kpAt = luong ? 6 : 7, valuesAt = luong ? 8 : 9, waAt = luong ? 9 : 10;
  const Type &kp = ops[kpAt]->type(), &values = ops[valuesAt]->type(), &wa = ops[waAt]->type();
  if (!hidden.isStatic() || kp.rank() != 3 || values.rank() != 3 || wa.rank() != 2 ||
      !kp.dim(2).isStatic() || !values.dim(2).isStatic())
    return opError(k, fmt::format("the hidden size must be static, kp [B, S, A] and values "
                                  "[B, S, D] with static A and D, wa [H + D, N]; got h {}, kp {}, "
                                  "values {}, wa {}",
                                  h.shapeStr(), kp.shapeStr(), values.shapeStr(), wa.shapeStr()));
  const Dim &len = kp.dim(1), &units = kp.dim(2), &depth = values.dim(2);
  Dim gates(4 * hidden.size()), concat(hidden.size() + depth.size());
  DType dt = x.dtype();
  std::vector<std::pair<const char *, Type>> want = {{"x", x},
                                                     {"h", Type({batch, hidden}, dt)},
                                                     {"c", Type({batch, hidden}, dt)},
                                                     {"wx", Type({in, gates}, dt)},
                                                     {"wh", Type({hidden, gates}, dt)},
                                                     {"b", Type({gates}, dt)}};
  if (luong) {
    want.push_back({"kp", Type({batch, len, hidden}, dt)});
    want.push_back({"g", Type({}, dt)});
  } else {
    want.push_back({"wq", Type({hidden, units}, dt)});
    want.push_back({"kp", Type({batch, len, units}, dt)});
    want.push_back({"v", Type({units}, dt)});
  }
  want.push_back({"values", Type({batch, len, depth}, dt)});
  want.push_back({"wa", Type({concat, wa.dim(1)}, dt)});
  Type weights({batch, len}, dt);
  if (ops.size() == base + 1)
    want.push_back({"mask", weights});
  for (size_t i = 1; i < want.size(); ++i)
    if (ops[i]->type() != want[i].second)
      return opError(k, fmt::format("{} must be {} (x {}, h {}, kp {}, values {}), got {}",
                                    want[i].first, want[i].second.str(), x.shapeStr(), h.shapeStr(),
                                    kp.shapeStr(), values.shapeStr(), ops[i]->type().str()));
  return Types{want[1].second, want[2].second, Type({batch, wa.dim(1)}, dt), weights};
}
} // namespace weft::ir::detail
