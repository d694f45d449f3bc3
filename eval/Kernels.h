//===- eval/Kernels.h - per-op kernels ------------------------------------===//
//
// Shared by the reference interpreter (backends/reference) and eval/Evaluate.h,
// nobody else. Every kernel takes the op (for its kind, attributes and declared
// result type), concrete operand arrays and the dim bindings, checks everything
// it relies on (so a mismatched array is an error, never an out-of-bounds
// access) and returns the op's single result.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"
#include "runtime/Array.h"

#include <span>
#include <string>
#include <vector>

namespace weft::eval::detail {

using Shape = std::vector<int64_t>;
using Operands = std::span<const Array *const>;

/// A zero-filled array; an error instead of an exception for negative or huge shapes.
Expected<Array> makeArray(DType dtype, const Shape &shape);
/// Row-major strides of `shape` (in elements).
Shape stridesOf(const Shape &shape);
/// An error "<op>: <msg>".
Diag opError(const ir::Op &op, const std::string &msg);
/// The declared (first) result type of `op` evaluated under `dims`.
Expected<Shape> declaredShape(const ir::Op &op, const ir::DimBindings &dims);

/// Unary, binary, compare, logical, select and cast (Elementwise.cpp).
Expected<Array> evalElementwise(const ir::Op &op, Operands xs, const ir::DimBindings &dims);
/// Ops with the Shape trait: broadcast reshape transpose slice concat pad gather scatter_add
/// (Shape.cpp).
Expected<Array> evalShapeOp(const ir::Op &op, Operands xs, const ir::DimBindings &dims);
/// Reductions, argmax, matmul, constant, iota, random_* (Math.cpp).
Expected<Array> evalMathOp(const ir::Op &op, Operands xs, const ir::DimBindings &dims);

/// lstm_sequence, its three results hs, hT, cT (LstmSequence.cpp).
Expected<std::vector<Array>> evalLstmSequence(const ir::Op &op, Operands xs);
/// lstm_sequence_grad, its six results dxs, dh0, dc0, dwx, dwh, db (LstmSequenceGrad.cpp).
Expected<std::vector<Array>> evalLstmSequenceGrad(const ir::Op &op, Operands xs);

/// gru_sequence and rnn_sequence, their two results hs, hT (GruRnnSequence.cpp).
Expected<std::vector<Array>> evalGruRnnSequence(const ir::Op &op, Operands xs);
/// gru_sequence_grad (dxs, dh0, dwx, dwh, dbx, dbh) and rnn_sequence_grad (dxs, dh0, dwx, dwh,
/// db) (GruRnnSequenceGrad.cpp).
Expected<std::vector<Array>> evalGruRnnSequenceGrad(const ir::Op &op, Operands xs);
/// attention, and attention_grad's three results dq, dk, dv, by the naive formula in double
/// (Attention.cpp).
Expected<Array> evalAttention(const ir::Op &op, Operands xs);
Expected<std::vector<Array>> evalAttentionGrad(const ir::Op &op, Operands xs);
/// additive_attention, its two results context and weights, in double (AdditiveAttention.cpp).
Expected<std::vector<Array>> evalAdditiveAttention(const ir::Op &op, Operands xs);
/// lstm_attention_step, its four results h2, c2, att and weights, in double
/// (LstmAttentionStep.cpp).
Expected<std::vector<Array>> evalLstmAttentionStep(const ir::Op &op, Operands xs);

/// Evaluates any op without a region (Kernels.cpp): checks operand count and dtypes against
/// the op, then dispatches to the kernels above.
Expected<Array> evalOp(const ir::Op &op, Operands xs, const ir::DimBindings &dims);

} // namespace weft::eval::detail
