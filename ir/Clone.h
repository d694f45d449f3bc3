//===- ir/Clone.h - copying ops, regions and functions --------------------===//
#pragma once

#include "ir/Builder.h"

#include <unordered_map>

namespace weft::ir {

/// Maps values of the original IR to their copies. Values not in the map are used as they are
/// (values defined outside what is being cloned).
class ValueMap {
public:
  void map(const Value *from, Value *to) { m_[from] = to; }
  Value *lookup(Value *v) const {
    auto it = m_.find(v);
    return it == m_.end() ? v : it->second;
  }
  bool contains(const Value *v) const { return m_.count(v) != 0; }

private:
  std::unordered_map<const Value *, Value *> m_;
};

/// Inserts a copy of `op` (regions included) at the builder's insertion point, with operands
/// remapped through `map`; records the copy's results (and region arguments) in `map`.
Op *cloneOp(OpBuilder &b, const Op &op, ValueMap &map);

/// Copies `f` into `m` under `name`.
Function &cloneFunction(Module &m, const Function &f, std::string name);

} // namespace weft::ir
