//===- ir/InferGruRnn.cpp - typing rules of gru/rnn_sequence and their grads ===//
#include "ir/InferDetail.h"

#include <fmt/format.h>

namespace weft::ir::detail {

/// gru_sequence (G = 3: %xs, %h0, %wx[I,3H], %wh[H,3H], %bx[3H], %bh[3H]) and rnn_sequence
/// (G = 1: %xs, %h0, %wx[I,H], %wh[H,H], %b[H]), each with optional lengths [B]; results
/// hs [T,B,H] and hT [B,H]. gru_sequence {save_gates} adds gates [T,B,3H] ([T,B,4H] with
/// linear_before_reset: r, z, n and the recurrent projection's n part).
Expected<Types> inferGatedSequence(OpKind k, std::span<Value *const> ops, const Attrs &attrs) {
  const bool gru = k == OpKind::GruSequence;
  const size_t base = gru ? 6 : 5;
  if (ops.size() != base && ops.size() != base + 1)
    return opError(k,
                   fmt::format("expects {} operands ({}) and optional lengths, got {}", base,
                               gru ? "xs, h0, wx, wh, bx, bh" : "xs, h0, wx, wh, b", ops.size()));
  const Type &xs = ops[0]->type();
  auto dims = sequenceDims(k, xs, ops[1]->type());
  WEFT_TRY(dims.status());
  const Dim &batch = dims->batch, &in = dims->in, &hidden = dims->hidden;
  Dim gates((gru ? 3 : 1) * hidden.size());
  std::vector<const char *> names = {"xs", "h0", "wx", "wh", gru ? "bx" : "b", "bh"};
  std::vector<Type> want = {xs, Type({batch, hidden}, xs.dtype()), Type({in, gates}, xs.dtype()),
                            Type({hidden, gates}, xs.dtype()), Type({gates}, xs.dtype())};
  if (gru)
    want.push_back(Type({gates}, xs.dtype()));
  WEFT_TRY(checkSequenceOperands(k, ops, want, names));
  if (ops.size() == base + 1)
    WEFT_TRY(checkSequenceLengths(k, ops[base]->type(), batch));
  Types out{Type({xs.dim(0), batch, hidden}, xs.dtype()), want[1]};
  if (gru && flag(attrs, AttrId::SaveGates)) {
    const int64_t saved = (flag(attrs, AttrId::LinearBeforeReset) ? 4 : 3) * hidden.size();
    out.push_back(Type({xs.dim(0), batch, Dim(saved)}, xs.dtype()));
  }
  return out;
}

/// gru_sequence_grad (%xs, %h0, %wx, %wh, %bx, %bh, %hs, %dhs, %dhT [, %gates with
/// {save_gates}] [, %len]) and rnn_sequence_grad (%xs, %h0, %wx, %wh, %b, %hs, %dhs, %dhT
/// [, %len]): the forward's operands as its op checks them, its hs (and gates) and the
/// adjoints of hs and hT; results the adjoints of the forward's operands but the lengths
/// (their types).
Expected<Types> inferGatedSequenceGrad(OpKind k, std::span<Value *const> ops, const Attrs &attrs) {
  const bool gru = k == OpKind::GruSequenceGrad;
  const bool saved = gru && flag(attrs, AttrId::SaveGates);
  const size_t base = gru ? 6 : 5, fixed = base + (saved ? 4 : 3);
  if (ops.size() != fixed && ops.size() != fixed + 1)
    return opError(k, fmt::format("expects {} operands ({}, hs, dhs, dhT{}) and optional lengths, "
                                  "got {}",
                                  fixed, gru ? "xs, h0, wx, wh, bx, bh" : "xs, h0, wx, wh, b",
                                  saved ? ", gates" : "", ops.size()));
  std::vector<Value *> forward(ops.begin(), ops.begin() + static_cast<ptrdiff_t>(base));
  if (ops.size() == fixed + 1)
    forward.push_back(ops[fixed]);
  Attrs forwardAttrs;
  if (saved)
    forwardAttrs[std::string(attrKey(AttrId::SaveGates))] = int64_t{1};
  if (gru && flag(attrs, AttrId::LinearBeforeReset))
    forwardAttrs[std::string(attrKey(AttrId::LinearBeforeReset))] = int64_t{1};
  auto fwd =
      inferGatedSequence(gru ? OpKind::GruSequence : OpKind::RnnSequence, forward, forwardAttrs);
  if (!fwd)
    return opError(k, fwd.diag().message);
  const Types &r = *fwd; // hs, hT (, gates)
  const char *names[] = {"hs", "dhs", "dhT", "gates"};
  const Type *want[] = {&r[0], &r[0], &r[1], saved ? &r[2] : nullptr};
  for (size_t i = 0; i < fixed - base; ++i)
    if (ops[base + i]->type() != *want[i])
      return opError(k, fmt::format("{} must be {}, got {}", names[i], want[i]->str(),
                                    ops[base + i]->type().str()));
  Types out;
  for (size_t i = 0; i < base; ++i)
    out.push_back(ops[i]->type());
  return out;
}

} // namespace weft::ir::detail
