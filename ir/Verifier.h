//===- ir/Verifier.h - structural and type checks of IR -------------------===//
#pragma once

#include "ir/Module.h"

namespace weft::ir {

/// Checks types and shapes (re-inferring every op's results), SSA dominance (every operand
/// is defined before its use, in the same block or an enclosing one), region signatures and
/// terminators, and unique function names. The error names the function and the op.
Status verify(const Module &m);
Status verify(const Function &f);

} // namespace weft::ir
