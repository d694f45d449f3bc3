//===- passes/autodiff/Gradient.cpp - the reverse sweep and its driver ----===//
#include "ir/Clone.h"
#include "ir/Infer.h"
#include "ir/Walk.h"
#include "passes/autodiff/Autodiff.h"
#include "passes/autodiff/Emit.h"
#include "passes/autodiff/VJP.h"
#include "transforms/ExpandGruRnn.h"
#include "transforms/ExpandLstm.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::autodiff {

using ir::OpKind;
using ir::Value;

Status Adjoints::accumulate(ir::OpBuilder &b, const Value *v, Value *g) {
  if (g->type() != v->type())
    return err(fmt::format("autodiff internal error: adjoint of type {} for a value of type {}",
                           g->type().str(), v->type().str()));
  Value *&slot = adj_[v];
  if (!slot) {
    slot = g;
    return {};
  }
  auto sum = b.create1(OpKind::Add, {slot, g});
  if (!sum)
    return sum.diag();
  slot = *sum;
  return {};
}

namespace {

using ActiveSet = std::unordered_set<const Value *>;

/// Operands of a region op paired with the body arguments they feed, and the yield operands
/// that feed those arguments again on the next step (loop-carried).
struct RegionFlow {
  std::vector<std::pair<Value *, Value *>> inputs;  // operand -> body argument
  std::vector<std::pair<Value *, Value *>> carried; // yield operand -> body argument
};

RegionFlow regionFlow(ir::Op &op) {
  RegionFlow flow;
  ir::Block &body = op.region();
  ir::Op *yield = body.back();
  if (op.kind() == OpKind::Scan) {
    auto g = ir::scanOperands(op.numOperands(), op.attrs());
    for (size_t i = 0; i < g->numCarry + g->numSeq; ++i)
      flow.inputs.push_back({op.operand(i), body.arg(i)});
    for (size_t i = 0; i < g->numCarry; ++i)
      flow.carried.push_back({yield->operand(i), body.arg(i)});
  } else { // while: operand 0 is the finished flags, yield 0 the done flags
    for (size_t i = 1; i < op.numOperands(); ++i) {
      flow.inputs.push_back({op.operand(i), body.arg(i - 1)});
      flow.carried.push_back({yield->operand(i), body.arg(i - 1)});
    }
  }
  return flow;
}

void propagate(ir::Block &block, ActiveSet &active);

void propagateRegionOp(ir::Op &op, ActiveSet &active) {
  RegionFlow flow = regionFlow(op);
  for (auto [operand, arg] : flow.inputs)
    if (active.count(operand) && differentiable(arg))
      active.insert(arg);
  // Iterate to a fixed point: a carry becomes active once the body makes it so.
  for (bool changed = true; changed;) {
    propagate(op.region(), active);
    changed = false;
    for (auto [yielded, arg] : flow.carried)
      if (active.count(yielded) && differentiable(arg) && active.insert(arg).second)
        changed = true;
  }
  // Result i is fed by yield operand i (scan: carries then emits; while: done flags, carries,
  // emits). A carry result is also active when its body argument is: an active initial value
  // passes through a loop that runs zero times.
  ir::Op *yield = op.region().back();
  size_t carryBegin = op.kind() == OpKind::While ? 1 : 0;
  for (size_t i = 0; i < op.numResults(); ++i) {
    Value *r = op.result(i);
    if (!differentiable(r))
      continue;
    bool act = i < yield->numOperands() && active.count(yield->operand(i));
    if (i >= carryBegin && i - carryBegin < flow.carried.size())
      act = act || active.count(flow.carried[i - carryBegin].second);
    if (act)
      active.insert(r);
  }
}

void propagate(ir::Block &block, ActiveSet &active) {
  for (auto &opPtr : block.ops()) {
    ir::Op &op = *opPtr;
    if (ir::isLoop(op.kind())) {
      propagateRegionOp(op, active);
      continue;
    }
    if (op.kind() == OpKind::StopGradient)
      continue;
    bool anyActive = std::any_of(op.operands().begin(), op.operands().end(),
                                 [&](Value *v) { return active.count(v) != 0; });
    if (!anyActive)
      continue;
    for (Value *r : op.results())
      if (differentiable(r))
        active.insert(r);
  }
}

/// The scans under `block` that have lengths, innermost first.
void collectScansWithLengths(ir::Block &block, std::vector<ir::Op *> &out) {
  for (auto &op : block.ops()) {
    for (size_t r = 0; r < op->numRegions(); ++r)
      collectScansWithLengths(op->region(r), out);
    if (op->kind() != OpKind::Scan)
      continue;
    auto g = ir::scanOperands(op->numOperands(), op->attrs());
    if (g && g->hasLengths)
      out.push_back(op.get());
  }
}

} // namespace

std::unordered_set<const Value *> activeValues(ir::Block &block,
                                               const std::vector<Value *> &seeds) {
  ActiveSet active(seeds.begin(), seeds.end());
  propagate(block, active);
  return active;
}

Status backpropBlock(ir::OpBuilder &b, ir::Block &block, Adjoints &adj) {
  std::vector<ir::Op *> forward;
  for (auto &op : block.ops())
    forward.push_back(op.get());
  for (auto it = forward.rbegin(); it != forward.rend(); ++it) {
    ir::Op &op = **it;
    if (ir::isTerminator(op.kind()))
      continue;
    std::vector<Value *> gs;
    bool any = false;
    for (Value *r : op.results()) {
      gs.push_back(adj.get(r));
      any |= gs.back() != nullptr;
    }
    if (!any)
      continue;
    if (op.kind() == OpKind::Matmul) {
      auto partial = vjpMatmulOfConcat(b, op, adj);
      WEFT_TRY(partial.status());
      if (*partial)
        continue;
    }
    std::vector<bool> want;
    for (Value *v : op.operands())
      want.push_back(adj.isActive(v));
    auto grads = op.kind() == OpKind::Scan ? vjpScan(b, op, gs, adj) : vjpOp(b, op, gs, want);
    if (!grads)
      return grads.diag();
    for (size_t i = 0; i < op.numOperands(); ++i)
      if ((*grads)[i] && want[i])
        WEFT_TRY(adj.accumulate(b, op.operand(i), (*grads)[i]));
  }
  return {};
}

Expected<ir::Function *> buildGradient(ir::Module &m, const ir::Function &f,
                                       const GradOptions &options) {
  ir::Op *ret = f.returnOp();
  if (!ret)
    return err(fmt::format("autodiff: function @{} has no return", f.name()));
  if (options.lossIndex >= ret->numOperands())
    return err(fmt::format("autodiff: function @{} has {} results; there is no result {} to "
                           "use as the loss",
                           f.name(), ret->numOperands(), options.lossIndex));
  const ir::Type &lossType = ret->operand(options.lossIndex)->type();
  if (lossType.rank() != 0 || !ir::isFloat(lossType.dtype()))
    return err(fmt::format("autodiff: the loss (result {} of @{}) must be a float scalar, got "
                           "{}; reduce it first (e.g. reduce_mean)",
                           options.lossIndex, f.name(), lossType.str()));
  std::vector<size_t> wrt; // gradients are returned in this order
  for (size_t i = 0; options.wrt.empty() && i < f.numParams(); ++i)
    if (differentiable(f.param(i)))
      wrt.push_back(i);
  for (const std::string &pname : options.wrt) {
    size_t i = 0;
    while (i < f.numParams() && f.param(i)->name() != pname)
      ++i;
    if (i == f.numParams())
      return err(fmt::format("autodiff: @{} has no parameter %{}", f.name(), pname));
    if (!differentiable(f.param(i)))
      return err(fmt::format("autodiff: parameter %{} has dtype {}; only float parameters have "
                             "gradients",
                             pname, ir::dtypeName(f.param(i)->type().dtype())));
    wrt.push_back(i);
  }
  std::string name = options.name.empty() ? f.name() + "_grad" : options.name;
  if (m.function(name))
    return err(fmt::format("autodiff: module already has a function @{}", name));

  ir::Function &g = m.addFunction(name);
  ir::ValueMap map;
  for (Value *p : f.body().args())
    map.map(p, g.addParam(p->type(), p->name()));
  ir::OpBuilder b(g.body());
  for (const auto &op : f.body().ops())
    if (op.get() != ret)
      ir::cloneOp(b, *op, map);
  Value *loss = map.lookup(ret->operand(options.lossIndex));

  // lstm_sequence, gru_sequence and rnn_sequence have fused VJPs (lstm_sequence_grad, ...)
  // for whole-sequence BPTT. Truncated BPTT cuts the recurrence every k steps, which only the
  // scan each stands for can express: expanded here, in the gradient function only, it is
  // differentiated like a hand-written cell.
  if (options.truncate > 0) {
    WEFT_TRY(transforms::expandLstmSequences(g.body()).status());
    WEFT_TRY(transforms::expandGruRnnSequences(g.body()).status());
  }

  // Lengths become mask sequences before checkpointing, which segments them with the
  // sequences they mask.
  std::vector<ir::Op *> masked;
  collectScansWithLengths(g.body(), masked);
  for (ir::Op *scan : masked)
    WEFT_TRY(lowerScanLengths(scan).status());

  if (options.checkpointEvery < 0 || options.truncate < 0)
    return err("autodiff: checkpointEvery and truncate must not be negative");
  if (options.checkpointEvery > 0) {
    std::vector<ir::Op *> scans;
    for (auto &op : g.body().ops())
      if (op->kind() == OpKind::Scan)
        scans.push_back(op.get());
    for (ir::Op *scan : scans)
      WEFT_TRY(segmentScan(scan, options.checkpointEvery).status());
  }

  std::vector<Value *> seeds;
  for (size_t i : wrt)
    seeds.push_back(g.param(i));
  ActiveSet active = activeValues(g.body(), seeds);
  Adjoints adj(active, options);
  Emit e(b, ret->loc());
  if (active.count(loss)) {
    WEFT_TRY(adj.accumulate(b, loss, e.splatLike(loss, 1.0)));
    WEFT_TRY(backpropBlock(b, g.body(), adj));
  }
  std::vector<Value *> results{loss};
  if (options.keepResults) {
    results.clear();
    for (Value *r : ret->operands())
      results.push_back(map.lookup(r));
  }
  for (size_t i : wrt) {
    Value *p = g.param(i);
    Value *grad = adj.get(p);
    results.push_back(grad ? grad : e.zerosLike(p));
  }
  WEFT_TRY(b.create(OpKind::Return, results, {}, {}, ret->loc()).status());
  return &g;
}

} // namespace weft::autodiff
