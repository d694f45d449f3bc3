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

/// gru_sequence and rnn_sequence (InferGruRnn.cpp).
Expected<std::vector<Type>> inferGatedSequence(OpKind k, std::span<Value *const> ops,
                                               const Attrs &attrs);
/// gru_sequence_grad and rnn_sequence_grad (InferGruRnn.cpp).
Expected<std::vector<Type>> inferGatedSequenceGrad(OpKind k, std::span<Value *const> ops,
                                                   const Attrs &attrs);

} // namespace weft::ir::detail
