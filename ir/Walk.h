//===- ir/Walk.h - traversal and batch replacement ------------------------===//
#pragma once

#include "ir/Module.h"

#include <functional>
#include <unordered_map>

namespace weft::ir {

/// Calls `fn` on every op in `block` and, after each scan/while, on the ops of its region:
/// pre-order, in program order.
void walk(Block &block, const std::function<void(Op &)> &fn);

/// Replaces every use of a key of `map` under `block` by its value (applied once, not
/// transitively). For one value at a time, or to ask who uses a value, see ir/Uses.h.
void replaceUses(Block &block, const std::unordered_map<Value *, Value *> &map);

} // namespace weft::ir
