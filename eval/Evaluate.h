//===- eval/Evaluate.h - one op on concrete values ------------------------===//
//
// The per-op kernels of the reference interpreter, as a library below passes/
// and backends/: constant folding evaluates an op with exactly the arithmetic
// the interpreter runs it with, so folding agrees with execution by
// construction.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"
#include "runtime/Array.h"

#include <span>
#include <vector>

namespace weft::eval {

/// Evaluates one op without regions on concrete operand values, with `dims` binding any
/// symbols in its result types. A mismatched operand, a missing attribute or a run-time fault
/// (integer division by zero, an index out of range) is an error located at the op.
Expected<std::vector<Array>> evaluateOp(const ir::Op &op, std::span<const Array> operands,
                                        const ir::DimBindings &dims = {});

} // namespace weft::eval
