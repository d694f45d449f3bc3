//===- ir/InferDetail.h - what the typing rules' files share --------------===//
//
// Infer.cpp dispatches each op to its family's typing rule in ir/Infer*.cpp and holds the checks
// they share. Not part of the IR's interface: include it only from ir/Infer*.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <fmt/format.h>

#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace weft::ir::detail {

using Types = std::vector<Type>;

/// "<op name>: <msg>".
Diag opError(OpKind k, const std::string &msg);
/// OK when `t`'s dtype is one kind `k`'s operands may have; else an error naming `what`.
Status checkDType(OpKind k, const Type &t, const char *what);
/// Whether the optional flag `id` is set.
bool flag(const Attrs &attrs, AttrId id);
/// OK when `axis` lies in [0, rank); else an error naming `what`.
Status checkAxis(OpKind k, int64_t axis, int64_t rank, const char *what = "axis");
/// OK when `axes` are in range and strictly increasing; else an error naming `what`.
Status checkIncreasingAxes(OpKind k, const std::vector<int64_t> &axes, int64_t rank,
                           const char *what);
/// The single result type `t`.
inline Expected<Types> one(Type t) { return Types{std::move(t)}; }

/// Attribute `id` as a T; an error when it is missing or of another kind.
template <typename T> Expected<T> attr(OpKind k, const Attrs &attrs, AttrId id) {
  std::string_view key = attrKey(id);
  auto it = attrs.find(key);
  if (it == attrs.end())
    return opError(k, fmt::format("missing attribute '{}'", key));
  if (const T *v = std::get_if<T>(&it->second))
    return *v;
  const char *want = std::is_same_v<T, int64_t>                ? "an integer"
                     : std::is_same_v<T, double>               ? "a float"
                     : std::is_same_v<T, std::vector<int64_t>> ? "a list of integers"
                     : std::is_same_v<T, std::vector<double>>  ? "a list of floats"
                                                               : "a string";
  return opError(k, fmt::format("attribute '{}' must be {}", key, want));
}

// The primitive ops (InferPrimitives.cpp).
Expected<Types> inferElementwise(OpKind k, std::span<Value *const> ops);
Expected<Types> inferSelect(std::span<Value *const> ops);
Expected<Types> inferBroadcast(std::span<Value *const> ops, const Attrs &attrs, const Type &out);
Expected<Types> inferReshape(std::span<Value *const> ops, const Type &out);
Expected<Types> inferTranspose(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferSlice(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferConcat(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferPad(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferGather(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferScatterAdd(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferReduce(OpKind k, std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferArgmax(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferMatmul(std::span<Value *const> ops);
Expected<Types> inferConstant(std::span<Value *const> ops, const Attrs &attrs, const Type &out);
Expected<Types> inferIota(std::span<Value *const> ops, const Attrs &attrs, const Type &out);
Expected<Types> inferCast(std::span<Value *const> ops, const Type &out);
Expected<Types> inferAllReduce(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferRandom(OpKind k, std::span<Value *const> ops, const Type &out);

// attention, attention_grad and additive_attention (InferAttention.cpp).
Expected<Types> inferAttention(std::span<Value *const> ops);
Expected<Types> inferAttentionGrad(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferAdditiveAttention(std::span<Value *const> ops);

// scan, while and fusion (InferRegions.cpp); `body` is the finished region, or null.
Expected<Types> inferScan(std::span<Value *const> ops, const Attrs &attrs, const Block *body);
Expected<Types> inferWhile(std::span<Value *const> ops, const Attrs &attrs, const Block *body);
Expected<Types> inferFusion(std::span<Value *const> ops, const Block *body);

/// The sizes of a recurrent sequence op (lstm/gru/rnn_sequence) read off its xs [T, B, I] and
/// h0 [B, H], the hidden size static.
struct SequenceDims {
  Dim batch, in, hidden;
};
/// xs's dtype and both ranks checked, and H static; else an error naming the problem.
Expected<SequenceDims> sequenceDims(OpKind k, const Type &xs, const Type &h0);
/// OK when ops[i] has type want[i] for every i >= 1 (xs is want[0]); else an error naming
/// names[i] and both types.
Status checkSequenceOperands(OpKind k, std::span<Value *const> ops, std::span<const Type> want,
                             std::span<const char *const> names);
/// OK when `len` is a sequence op's lengths: [batch] of i32 or i64.
Status checkSequenceLengths(OpKind k, const Type &len, const Dim &batch);

/// lstm_sequence, lstm_sequence_grad and lstm_attention_step (InferLstm.cpp).
Expected<Types> inferLstmSequence(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferLstmSequenceGrad(std::span<Value *const> ops, const Attrs &attrs);
Expected<Types> inferLstmAttentionStep(std::span<Value *const> ops, const Attrs &attrs);

/// gru_sequence and rnn_sequence (InferGruRnn.cpp).
Expected<Types> inferGatedSequence(OpKind k, std::span<Value *const> ops, const Attrs &attrs);
/// gru_sequence_grad and rnn_sequence_grad (InferGruRnn.cpp).
Expected<Types> inferGatedSequenceGrad(OpKind k, std::span<Value *const> ops, const Attrs &attrs);

} // namespace weft::ir::detail
