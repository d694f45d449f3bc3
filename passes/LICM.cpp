//===- passes/LICM.cpp - loop-invariant code motion -----------------------===//
//
// Moves pure ops out of scan and while bodies when none of their operands is
// computed in the body: a step that transposes a weight, say, does it once
// before the loop instead. Loops are visited innermost first, so an op can
// move out of several nested loops in one run.
//
// An op that may fault (ir::mayFault: integer div, gather, ...) moves only out
// of a loop whose body surely runs: hoisted out of a loop that runs zero times,
// it would stop a run that succeeds.
//
//===----------------------------------------------------------------------===//
#include "ir/Infer.h"
#include "ir/Walk.h"
#include "passes/Passes.h"

#include <unordered_set>

namespace weft::passes {
namespace {

/// Whether the body of `loop` runs at least once whatever the inputs: a scan over a static,
/// nonempty time axis (it runs every step, padded ones too). A while may run no trip (every
/// example finished, B = 0 or max_trips = 0), and a symbolic T may be 0.
bool runsAtLeastOnce(const ir::Op &loop) {
  if (loop.kind() != ir::OpKind::Scan)
    return false;
  auto groups = ir::scanOperands(loop.numOperands(), loop.attrs());
  if (!groups.isOk())
    return false;
  const ir::Dim &steps = loop.operand(groups->numCarry)->type().dim(0);
  return steps.isStatic() && steps.size() > 0;
}

/// Hoists the invariant ops of `loop`'s body to just before `loop`.
bool hoistInvariants(ir::Op &loop) {
  ir::Block &body = loop.region();
  ir::Block &outer = *loop.parentBlock();
  std::unordered_set<const ir::Value *> inside;
  for (ir::Value *a : body.args())
    inside.insert(a);
  std::vector<ir::Op *> ops;
  for (auto &op : body.ops()) {
    ops.push_back(op.get());
    for (ir::Value *r : op->results())
      inside.insert(r);
  }
  bool mayHoistFaults = runsAtLeastOnce(loop);
  bool changed = false;
  for (ir::Op *op : ops) {
    if (!ir::isPure(op->kind()) || op->numRegions() > 0)
      continue;
    if (!mayHoistFaults && ir::mayFault(*op))
      continue;
    bool invariant = std::none_of(op->operands().begin(), op->operands().end(),
                                  [&](ir::Value *v) { return inside.count(v) != 0; });
    if (!invariant)
      continue;
    outer.insert(outer.iteratorOf(&loop), body.detach(op));
    for (ir::Value *r : op->results())
      inside.erase(r);
    changed = true;
  }
  return changed;
}

class LICMPass : public FunctionPass {
public:
  std::string_view name() const override { return "licm"; }

  Expected<bool> runOnFunction(ir::Function &f) override {
    bool changed = false;
    std::vector<ir::Op *> loops;
    ir::walk(f.body(), [&](ir::Op &op) {
      if (ir::isLoop(op.kind()))
        loops.push_back(&op);
    });
    for (auto it = loops.rbegin(); it != loops.rend(); ++it)
      changed |= hoistInvariants(**it);
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createLICMPass() { return std::make_unique<LICMPass>(); }

} // namespace weft::passes
