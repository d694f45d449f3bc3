//===- transforms/DeadCode.cpp - dead code removal as a utility -----------===//
//
// Blocks are swept last op first, so a chain of dead ops goes in one sweep;
// removing an op through ir::Uses releases the uses made by its operands and by
// the ops of its regions. Sweeps repeat until nothing changes.
//
//===----------------------------------------------------------------------===//
#include "transforms/DeadCode.h"

#include "ir/Uses.h"

#include <iterator>

namespace weft::transforms {
namespace {

using ir::Block;
using ir::Op;

class DeadCode {
public:
  DeadCode(Block &block, const ErasablePredicate &mayErase)
      : block_(block), mayErase_(mayErase), uses_(block) {}

  bool run() {
    bool changed = false;
    while (sweep(block_))
      changed = true;
    return changed;
  }

private:
  bool isDead(const Op &op) const {
    if (!mayErase_(op))
      return false;
    for (const ir::Value *r : op.results())
      if (uses_.used(r))
        return false;
    return true;
  }

  bool sweep(Block &b) {
    bool changed = false;
    for (auto it = b.ops().end(); it != b.ops().begin();) {
      --it;
      Op *op = it->get();
      if (isDead(*op)) {
        auto next = std::next(it);
        uses_.erase(*op);
        it = next;
        changed = true;
        continue;
      }
      for (size_t r = 0; r < op->numRegions(); ++r)
        changed |= sweep(op->region(r));
    }
    return changed;
  }

  Block &block_;
  const ErasablePredicate &mayErase_;
  ir::Uses uses_;
};

} // namespace

bool isPureOp(const ir::Op &op) {
  if (!ir::isPure(op.kind()))
    return false;
  // A scan or while is Pure as an op kind; it is as pure as the ops of its body (its yield
  // only hands values to the next trip).
  for (size_t r = 0; r < op.numRegions(); ++r)
    for (const auto &inner : op.region(r).ops())
      if (!ir::hasTrait(inner->kind(), ir::trait::Terminator) && !isPureOp(*inner))
        return false;
  return true;
}

bool eraseDeadOps(ir::Block &block, const ErasablePredicate &mayErase) {
  return DeadCode(block, mayErase).run();
}

} // namespace weft::transforms
