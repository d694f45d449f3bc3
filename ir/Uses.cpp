//===- ir/Uses.cpp --------------------------------------------------------===//
#include "ir/Uses.h"

#include "ir/Walk.h"

#include <algorithm>

namespace weft::ir {

Uses::Uses(Block &scope) {
  walk(scope, [&](Op &op) { record(op); });
}

void Uses::record(Op &op) {
  for (size_t i = 0; i < op.numOperands(); ++i)
    uses_[op.operand(i)].push_back({&op, i});
}

void Uses::forget(Op &op) {
  for (size_t i = 0; i < op.numOperands(); ++i) {
    auto it = uses_.find(op.operand(i));
    if (it == uses_.end())
      continue;
    std::vector<Use> &list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const Use &u) { return u.user == &op && u.index == i; }),
               list.end());
  }
}

const std::vector<Use> &Uses::of(const Value *v) const {
  static const std::vector<Use> none;
  auto it = uses_.find(v);
  return it == uses_.end() ? none : it->second;
}

void Uses::replaceAllUsesWith(Value *from, Value *to) {
  if (from == to)
    return;
  auto it = uses_.find(from);
  if (it == uses_.end())
    return;
  std::vector<Use> moved = std::move(it->second);
  uses_.erase(it);
  std::vector<Use> &dest = uses_[to];
  for (const Use &u : moved) {
    u.user->setOperand(u.index, to);
    dest.push_back(u);
  }
}

void Uses::erase(Op &op) {
  for (Value *r : op.results())
    WEFT_CHECK(!used(r), "Uses::erase of an op whose result is still used");
  forget(op);
  for (size_t r = 0; r < op.numRegions(); ++r)
    walk(op.region(r), [&](Op &inner) { forget(inner); });
  op.parentBlock()->erase(&op);
}

} // namespace weft::ir
