//===- ir/Walk.cpp --------------------------------------------------------===//
#include "ir/Walk.h"

namespace weft::ir {

void walk(Block &block, const std::function<void(Op &)> &fn) {
  for (auto &op : block.ops()) {
    fn(*op);
    for (size_t r = 0; r < op->numRegions(); ++r)
      walk(op->region(r), fn);
  }
}

void replaceUses(Block &block, const std::unordered_map<Value *, Value *> &map) {
  if (map.empty())
    return;
  walk(block, [&](Op &op) {
    for (size_t i = 0; i < op.numOperands(); ++i)
      if (auto it = map.find(op.operand(i)); it != map.end())
        op.setOperand(i, it->second);
  });
}

} // namespace weft::ir
