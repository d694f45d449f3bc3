//===- transforms/DeadCode.h - dead code removal as a utility -------------===//
//
// The dce pass and autodiff (dropping recomputation nothing reads) both remove
// ops whose results are unused; this is the one implementation they call.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

#include <functional>

namespace weft::transforms {

/// Which ops eraseDeadOps may remove once their results are unused.
using ErasablePredicate = std::function<bool(const ir::Op &)>;

/// Whether `op` has no side effect (ir::isPure), nor any op of its regions: the dce pass's
/// predicate.
bool isPureOp(const ir::Op &op);

/// Erases, until none is left, every op under `block` (regions included) that `mayErase`
/// accepts and none of whose results is used; a scan or while goes only when all its results
/// are unused, and with it the uses made by the ops of its region. Uses are counted under
/// `block`, so every value an erasable op defines must be used only there (true for the values
/// of a function body or of a loop body, by SSA scoping). Whether anything was erased.
bool eraseDeadOps(ir::Block &block, const ErasablePredicate &mayErase = isPureOp);

} // namespace weft::transforms
