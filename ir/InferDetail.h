//===- ir/InferDetail.h - what the typing rules' files share --------------===//
//
// Infer.cpp holds most typing rules; the recurrent sequences' are in their own files. Not
// part of the IR's interface: include it only from ir/Infer*.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <span>
#include <string>
#include <vector>

namespace weft::ir::detail {

/// "<op name>: <msg>".
Diag opError(OpKind k, const std::string &msg);
/// OK when `t`'s dtype is one kind `k`'s operands may have; else an error naming `what`.
Status checkDType(OpKind k, const Type &t, const char *what);
/// Whether the optional flag `id` is set.
bool flag(const Attrs &attrs, AttrId id);

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

/// gru_sequence and rnn_sequence (InferGruRnn.cpp).
Expected<std::vector<Type>> inferGatedSequence(OpKind k, std::span<Value *const> ops,
                                               const Attrs &attrs);
/// gru_sequence_grad and rnn_sequence_grad (InferGruRnn.cpp).
Expected<std::vector<Type>> inferGatedSequenceGrad(OpKind k, std::span<Value *const> ops,
                                                   const Attrs &attrs);

} // namespace weft::ir::detail
