//===- ir/Walk.h - traversal and use queries ------------------------------===//
#pragma once

#include "ir/Module.h"

#include <functional>
#include <unordered_map>

namespace weft::ir {

/// Calls `fn` on every op in `block` and, after each scan/while, on the ops of its region:
/// pre-order, in program order.
void walk(Block &block, const std::function<void(Op &)> &fn);

/// How many operands (nested regions included) use each value defined in or under `block`.
std::unordered_map<const Value *, size_t> useCounts(Block &block);

/// Replaces every use of a key of `map` under `block` by its value (applied once, not
/// transitively).
void replaceUses(Block &block, const std::unordered_map<Value *, Value *> &map);

/// Replaces every use of `from` under `block` by `to`.
void replaceAllUses(Block &block, Value *from, Value *to);

} // namespace weft::ir
