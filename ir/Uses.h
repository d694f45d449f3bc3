//===- ir/Uses.h - who uses each value under a block ----------------------===//
//
// Ops do not store use lists (ir/Op.h). A pass that asks "who uses v?" or
// replaces a value everywhere builds one Uses over the block it rewrites and
// keeps it current through Uses' own edits (replaceAllUsesWith, erase); edits
// made around it leave it stale, so build a fresh one after those.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

#include <unordered_map>
#include <vector>

namespace weft::ir {

/// One use: operand `index` of `user`.
struct Use {
  Op *user;
  size_t index;
};

class Uses {
public:
  /// Records every use made by the ops under `scope`, nested regions included.
  explicit Uses(Block &scope);

  /// The uses of `v` under the scope, in program order (pre-order for regions).
  const std::vector<Use> &of(const Value *v) const;
  size_t count(const Value *v) const { return of(v).size(); }
  bool used(const Value *v) const { return !of(v).empty(); }

  /// Every recorded use of `from` becomes a use of `to`; `from` is left unused.
  void replaceAllUsesWith(Value *from, Value *to);
  /// Erases `op`, whose results must be unused, and forgets the uses it and the ops of its
  /// regions made.
  void erase(Op &op);

private:
  /// Adds or drops the uses `op`'s own operands make (not its regions').
  void record(Op &op);
  void forget(Op &op);

  std::unordered_map<const Value *, std::vector<Use>> uses_;
};

} // namespace weft::ir
