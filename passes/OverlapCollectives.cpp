//===- passes/OverlapCollectives.cpp - start all_reduce as early as it can -===//
//
// The CPU backend runs an all_reduce as a non-blocking start where the op
// stands and a wait right before the first use of its result
// (docs/DataParallel.md). What overlaps the communication is what lies
// between the two; this pass makes that as much as it can by moving each
// all_reduce up to just after the op that computes the last of its inputs,
// together with the concat and reshapes that pack its bucket (ops used by
// nothing else). The optimizer step, written after every all_reduce, stays
// where it is, so a bucket of the last layer's gradients (the first ones the
// backward computes) is on the wire while the earlier layers' gradients are
// computed:
//
//   before                                 after
//   %g2 = ... (last layer's gradient)      %g2 = ...
//   %g1 = ... (first layer's gradient)     %g2.mean = all_reduce %g2    <- start
//   %g2.mean = all_reduce %g2              %g1 = ...                    <- overlaps
//   %g1.mean = all_reduce %g1              %g1.mean = all_reduce %g1
//   update(%g1.mean, %g2.mean)             update(...)                  <- waits here
//
// Collectives may pass each other: MPI needs every process to start them in
// the same order, and every process runs the same code, so any order the pass
// picks is everyone's. Nothing moves above an op that is not Pure other than an
// all_reduce. Only the ops of a function's body move; an all_reduce inside a
// loop stays where it is.
//
//===----------------------------------------------------------------------===//
#include "ir/Uses.h"
#include "passes/Passes.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace weft::passes {
namespace {

using ir::Op;
using ir::OpKind;

/// Ops that only pack an all_reduce's operand and may move with it.
bool isPacking(OpKind k) { return k == OpKind::Concat || k == OpKind::Reshape; }

/// `reduce` and the packing ops of `body` that feed nothing but it, in program order.
std::vector<Op *> chainOf(Op &reduce, ir::Block &body, const ir::Uses &uses) {
  std::vector<Op *> chain{&reduce};
  for (size_t i = 0; i < chain.size(); ++i)
    for (ir::Value *v : chain[i]->operands()) {
      Op *d = v->definingOp();
      if (d && d->parentBlock() == &body && isPacking(d->kind()) && uses.count(v) == 1)
        chain.push_back(d);
    }
  return chain;
}

/// Moves `reduce` (with its packing ops) to just after the last op it must follow.
bool hoist(Op &reduce, ir::Block &body, const ir::Uses &uses) {
  std::vector<Op *> order;
  std::unordered_map<const Op *, size_t> index;
  for (const auto &op : body.ops()) {
    index[op.get()] = order.size();
    order.push_back(op.get());
  }
  std::vector<Op *> chain = chainOf(reduce, body, uses);
  std::unordered_set<const Op *> inChain(chain.begin(), chain.end());
  std::sort(chain.begin(), chain.end(), [&](Op *a, Op *b) { return index[a] < index[b]; });
  // The last op outside the chain that the chain must follow: an input's definition, or an op
  // above the reduce that is neither Pure nor a collective.
  std::optional<size_t> after;
  auto follow = [&](const Op *op) {
    if (op && op->parentBlock() == &body && !inChain.count(op))
      after = std::max(after.value_or(0), index[op]);
  };
  for (Op *op : chain)
    for (ir::Value *v : op->operands())
      follow(v->definingOp());
  for (size_t i = 0; i < index[&reduce]; ++i)
    if (!ir::isPure(order[i]->kind()) && order[i]->kind() != OpKind::AllReduce)
      follow(order[i]);
  size_t target = after ? *after + 1 : 0;
  // The chain goes before the first op outside it from `target` on; already in place when that
  // is below the reduce. (A packing op above `target` moves down to the rest of its chain.)
  Op *anchor = nullptr;
  for (size_t i = target; i < index[&reduce] && !anchor; ++i)
    if (!inChain.count(order[i]))
      anchor = order[i];
  if (!anchor)
    return false;
  for (Op *op : chain)
    body.insert(body.iteratorOf(anchor), body.detach(op));
  return true;
}

class OverlapCollectivesPass final : public Pass {
public:
  std::string_view name() const override { return "overlap-collectives"; }

  Expected<bool> run(ir::Module &m) override {
    bool changed = false;
    for (const auto &f : m.functions()) {
      ir::Block &body = f->body();
      std::vector<Op *> reduces;
      for (const auto &op : body.ops())
        if (op->kind() == OpKind::AllReduce)
          reduces.push_back(op.get());
      if (reduces.empty())
        continue;
      ir::Uses uses(body); // moving ops changes no use
      for (Op *r : reduces)
        changed |= hoist(*r, body, uses);
    }
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createOverlapCollectivesPass() {
  return std::make_unique<OverlapCollectivesPass>();
}

} // namespace weft::passes
