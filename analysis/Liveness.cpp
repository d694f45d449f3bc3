//===- analysis/Liveness.cpp - program positions and last uses ------------===//
#include "analysis/Liveness.h"

#include <algorithm>

namespace weft::analysis {
namespace {

/// The block `v` is defined in.
const ir::Block *scopeOf(const ir::Value *v) {
  return v->isBlockArg() ? v->ownerBlock() : v->definingOp()->parentBlock();
}

/// `op` or the op enclosing it whose parent block is `block`; nullptr when `op` is not under
/// `block`.
const ir::Op *ancestorIn(const ir::Op *op, const ir::Block *block) {
  while (op && op->parentBlock() != block)
    op = op->parentBlock() ? op->parentBlock()->parentOp() : nullptr;
  return op;
}

} // namespace

Liveness::Liveness(const ir::Function &f) {
  number(f.body());
  for (const auto &[op, range] : spans_)
    addUses(*op, *op);
}

void Liveness::number(const ir::Block &block) {
  for (const auto &op : block.ops()) {
    int32_t start = next_++;
    if (ir::isLoop(op->kind()))
      for (size_t r = 0; r < op->numRegions(); ++r)
        number(op->region(r));
    spans_[op.get()] = LiveRange{start, next_ - 1};
  }
}

void Liveness::addUses(const ir::Op &user, const ir::Op &reader) {
  for (const ir::Value *v : reader.operands()) {
    // The op that reads `v` as seen from `v`'s block: `user` itself, or the loop around it.
    const ir::Op *at = ancestorIn(&user, scopeOf(v));
    if (!at)
      continue; // defined inside a region of `user` that was not numbered
    auto it = spans_.find(at);
    if (it == spans_.end())
      continue;
    int32_t &last = lastUse_.try_emplace(v, -1).first->second;
    last = std::max(last, it->second.last);
  }
  // A leaf with regions (a fusion) reads, at its own position, what its body reads from outside.
  if (ir::isLoop(user.kind()))
    return;
  for (size_t r = 0; r < reader.numRegions(); ++r)
    for (const auto &inner : reader.region(r).ops())
      addUses(user, *inner);
}

const LiveRange *Liveness::span(const ir::Op &op) const {
  auto it = spans_.find(&op);
  return it == spans_.end() ? nullptr : &it->second;
}

int32_t Liveness::lastUse(const ir::Value *v) const {
  auto it = lastUse_.find(v);
  return it == lastUse_.end() ? -1 : it->second;
}

} // namespace weft::analysis
