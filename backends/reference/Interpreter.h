//===- backends/reference/Interpreter.h - the reference interpreter -------===//
//
// Runs IR with plain loops, for obvious correctness rather than speed. It is
// the oracle every backend, pass and fusion is tested against. f32 results
// are rounded to f32 after every op; reductions accumulate in double.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"
#include "runtime/Array.h"

#include <span>
#include <vector>

namespace weft::reference {

/// Runs `f` on `inputs` (one per parameter). Symbolic dims are bound from the input shapes
/// (a parameter dim that is a plain symbol binds it) on top of `dims`, which may pre-bind
/// symbols, such as ones used only inside the body; a missing, mis-typed or mis-shaped input,
/// an unbound or inconsistent symbol, or a run-time fault (index out of range, integer division
/// by zero) is an error naming the problem.
Expected<std::vector<Array>> run(const ir::Function &f, std::span<const Array> inputs,
                                 const ir::DimBindings &dims = {});

} // namespace weft::reference
