//===- passes/autodiff/ScanVJP.cpp - BPTT: the VJP of scan ----------------===//
//
// Forward:  c_{t+1}, e_t = F(c_t, x_t; W)        (W: values the body captures)
// The forward scan is extended to also emit c_t, the carries entering each step
// (the residuals). The reverse scan runs over the steps in the other direction:
//
//   carries:   dc (state gradient, starting from the adjoint of the final carry),
//              dW (one accumulator per captured value that carries gradient)
//   sequences: de_t (adjoints of the emits), c_t (residuals), x_t (the inputs)
//   body:      recompute F(c_t, x_t; W); backprop dc and de_t through it; yield
//              dc_t, dW + dW_t, and emit dx_t
//
// so padded steps need no special case here: scans with lengths are first
// rewritten (lowerScanLengths) into scans whose bodies select the old carry and
// zero emits on padded steps, and the VJP of that select stops their gradient.
//
//===----------------------------------------------------------------------===//
#include "ir/Clone.h"
#include "ir/Infer.h"
#include "ir/ScanEmit.h"
#include "ir/Uses.h"
#include "ir/Walk.h"
#include "passes/autodiff/Emit.h"
#include "passes/autodiff/VJP.h"
#include "transforms/DeadCode.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::autodiff {

using ir::OpKind;
using ir::Value;

namespace {

/// Values used under `body` but defined outside it, in first-use order.
std::vector<Value *> capturedValues(ir::Block &body) {
  std::unordered_set<const Value *> inside;
  for (Value *a : body.args())
    inside.insert(a);
  ir::walk(body, [&](ir::Op &op) {
    for (Value *r : op.results())
      inside.insert(r);
    for (size_t i = 0; i < op.numRegions(); ++i)
      for (Value *a : op.region(i).args())
        inside.insert(a);
  });
  std::vector<Value *> captured;
  ir::walk(body, [&](ir::Op &op) {
    for (Value *v : op.operands())
      if (!inside.count(v) && std::find(captured.begin(), captured.end(), v) == captured.end())
        captured.push_back(v);
  });
  return captured;
}

/// Shape ops, producers and comparisons: recomputing them per step costs less than storing
/// them per step.
bool cheapToRecompute(OpKind k) {
  ir::OpCategory c = ir::opCategory(k);
  return c == ir::OpCategory::Structural || c == ir::OpCategory::Compare ||
         c == ir::OpCategory::Logical || k == OpKind::Constant || k == OpKind::Iota ||
         k == OpKind::Cast;
}

/// Makes the forward `scan` emit the step values that the VJP ops in the body of `rev` read
/// from the recomputed step (`recomputed`, cloned through `map`), feeds them to `rev` as
/// sequences, and removes the recomputation that is no longer used. Loop-invariant values,
/// values cheap to recompute and results of nested loops stay recomputed.
void stashResiduals(ir::Op &scan, ir::Op &rev, const ir::ValueMap &map,
                    const std::unordered_set<const ir::Op *> &recomputed) {
  ir::Block &body = scan.region(), &rbody = rev.region();
  ir::Op *yield = body.back();

  std::unordered_set<const Value *> variant; // values that change from step to step
  for (Value *a : body.args())
    variant.insert(a);
  std::unordered_map<const Value *, Value *> original; // recomputed value -> forward value
  for (auto &op : body.ops()) {
    if (op.get() == yield)
      continue;
    bool v = op->numRegions() > 0 || std::any_of(op->operands().begin(), op->operands().end(),
                                                 [&](Value *x) { return variant.count(x) != 0; });
    for (Value *r : op->results()) {
      if (v)
        variant.insert(r);
      if (!op->numRegions() && !cheapToRecompute(op->kind()) && v)
        original[map.lookup(r)] = r;
    }
  }

  std::vector<Value *> needed;
  std::unordered_set<const Value *> seen;
  for (auto &op : rbody.ops()) {
    if (recomputed.count(op.get()))
      continue;
    auto visit = [&](ir::Op &o) {
      for (Value *u : o.operands())
        if (original.count(u) && seen.insert(u).second)
          needed.push_back(u);
    };
    visit(*op);
    for (size_t r = 0; r < op->numRegions(); ++r)
      ir::walk(op->region(r), visit);
  }

  ir::Uses uses(rbody);
  for (Value *u : needed) {
    Value *v = original[u];
    Value *stack = ir::stackedEmit(scan, v); // reuses an emit the scan already has
    std::vector<Value *> operands = rev.operands();
    operands.push_back(stack);
    rev.setOperands(operands);
    rev.setAttr(ir::AttrId::NumSeq, rev.numSeq() + 1);
    Value *arg = rbody.addArg(v->type(), v->name().empty() ? "" : v->name() + "_res");
    uses.replaceAllUsesWith(u, arg);
  }

  // Drop the recomputation nothing reads any more.
  transforms::eraseDeadOps(rbody, [&](const ir::Op &op) { return recomputed.count(&op) != 0; });
}

/// Which carries of `scan` the loss depends on: carry i does when its final value has an
/// adjoint, or when what the body computes from it reaches a yielded value the loss depends
/// on (an emit with an adjoint, or another such carry). Backward reachability to a fixed
/// point; a carry the loss does not depend on needs no state gradient.
std::vector<bool> carriesTheLossReads(ir::Op &scan, size_t nc,
                                      const std::vector<Value *> &resultAdjoints) {
  ir::Block &body = scan.region();
  ir::Op *yield = body.back();
  WEFT_CHECK(resultAdjoints.size() == yield->numOperands(), "one adjoint per scan result");
  std::vector<bool> useful(nc, false);
  for (size_t i = 0; i < nc; ++i)
    useful[i] = resultAdjoints[i] != nullptr;
  for (bool changed = true; changed;) {
    std::unordered_set<const Value *> needed;
    for (size_t i = 0; i < yield->numOperands(); ++i)
      if (i < nc ? useful[i] : resultAdjoints[i] != nullptr)
        needed.insert(yield->operand(i));
    std::vector<ir::Op *> ops;
    for (auto &op : body.ops())
      ops.push_back(op.get());
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      ir::Op &op = **it;
      std::vector<Value *> results = op.results();
      if (std::none_of(results.begin(), results.end(),
                       [&](Value *r) { return needed.count(r) != 0; }))
        continue;
      for (Value *v : op.operands())
        needed.insert(v);
      for (size_t r = 0; r < op.numRegions(); ++r) // nested loops: all they read
        ir::walk(op.region(r), [&](ir::Op &inner) {
          for (Value *v : inner.operands())
            needed.insert(v);
        });
    }
    changed = false;
    for (size_t i = 0; i < nc; ++i)
      if (!useful[i] && needed.count(body.arg(i)))
        useful[i] = changed = true;
  }
  return useful;
}

/// flows[t] = (t mod k != 0), a tensor<T x i1> built at `b`.
Value *truncationMask(ir::OpBuilder &b, const ir::Dim &steps, int64_t k, const Loc &loc) {
  Emit e(b, loc);
  ir::Type ti({steps}, ir::DType::I64);
  Value *t = e.op(OpKind::Iota, {}, {{"axis", int64_t(0)}}, {ti});
  Value *kk = e.splatLike(t, static_cast<double>(k));
  Value *rem = e.sub(t, e.mul(e.div(t, kk), kk));
  return e.op(OpKind::Ne, {rem, e.zerosLike(rem)});
}

} // namespace

Expected<std::vector<Value *>> vjpScan(ir::OpBuilder &b, ir::Op &scan,
                                       const std::vector<Value *> &resultAdjoints, Adjoints &adj) {
  auto groups = ir::scanOperands(scan.numOperands(), scan.attrs());
  WEFT_TRY(groups.status());
  WEFT_CHECK(!groups->hasLengths, "scans with lengths are lowered before autodiff");
  size_t nc = groups->numCarry, ns = groups->numSeq;
  ir::Block &body = scan.region();
  ir::Op *yield = body.back();
  size_t ne = yield->numOperands() - nc;
  const ir::Dim steps = scan.operand(nc)->type().dim(0);
  bool reverse = scan.reverse();
  Emit e(b, scan.loc());

  std::vector<bool> read = carriesTheLossReads(scan, nc, resultAdjoints); // before residuals
  // Residuals: the forward scan also emits the carries entering each step.
  std::vector<Value *> residuals;
  {
    std::vector<Value *> ys = yield->operands();
    for (size_t i = 0; i < nc; ++i) {
      ys.push_back(body.arg(i));
      residuals.push_back(scan.addResult(body.arg(i)->type().stacked(steps)));
    }
    yield->setOperands(ys);
  }

  std::vector<Value *> captured;
  for (Value *v : capturedValues(body))
    if (adj.isActive(v) && differentiable(v))
      captured.push_back(v);

  // Operands of the reverse scan.
  std::vector<size_t> diffCarries, diffEmits, diffSeqs;
  // A carry gets a state gradient only if a chosen parameter varies it and the loss reads it.
  for (size_t i = 0; i < nc; ++i)
    if (differentiable(scan.operand(i)) && adj.isActive(body.arg(i)) && read[i])
      diffCarries.push_back(i);
  for (size_t j = 0; j < ne; ++j)
    if (resultAdjoints[nc + j] && differentiable(scan.result(nc + j)))
      diffEmits.push_back(j);
  for (size_t k = 0; k < ns; ++k)
    if (adj.isActive(scan.operand(nc + k)))
      diffSeqs.push_back(k);

  std::vector<Value *> operands;
  for (size_t i : diffCarries)
    operands.push_back(resultAdjoints[i] ? resultAdjoints[i] : e.zerosLike(scan.result(i)));
  for (Value *w : captured)
    operands.push_back(e.zerosLike(w));
  for (size_t j : diffEmits)
    operands.push_back(resultAdjoints[nc + j]);
  for (Value *r : residuals)
    operands.push_back(r);
  for (size_t k = 0; k < ns; ++k)
    operands.push_back(scan.operand(nc + k));
  size_t numCarry = diffCarries.size() + captured.size();
  ir::Attrs attrs{{"num_carry", int64_t(numCarry)},
                  {"num_seq", int64_t(operands.size() - numCarry)}};
  if (!reverse)
    attrs["reverse"] = int64_t(1);
  auto rev = b.beginRegionOp(OpKind::Scan, operands, attrs, scan.loc());
  WEFT_TRY(rev.status());
  ir::Block &rbody = (*rev)->region();
  size_t argDC = 0, argAcc = diffCarries.size(), argDE = numCarry, argC = argDE + diffEmits.size(),
         argX = argC + nc;

  // Names for the IR dump: d<carry>, d<captured>, d<emit>, <carry>_in.
  auto named = [](const Value *v, const char *prefix, const char *suffix) {
    return v->name().empty() ? std::string() : prefix + v->name() + suffix;
  };
  for (size_t n = 0; n < diffCarries.size(); ++n)
    rbody.arg(argDC + n)->setName(named(body.arg(diffCarries[n]), "d", ""));
  for (size_t w = 0; w < captured.size(); ++w)
    rbody.arg(argAcc + w)->setName(named(captured[w], "d", ""));
  for (size_t n = 0; n < diffEmits.size(); ++n)
    rbody.arg(argDE + n)->setName(named(yield->operand(nc + diffEmits[n]), "d", "_t"));
  for (size_t i = 0; i < nc; ++i)
    rbody.arg(argC + i)->setName(named(body.arg(i), "", "_in"));

  // Recompute the step from its residuals, then backprop through it.
  ir::OpBuilder rb(rbody);
  ir::ValueMap map;
  for (size_t i = 0; i < nc; ++i)
    map.map(body.arg(i), rbody.arg(argC + i));
  for (size_t k = 0; k < ns; ++k)
    map.map(body.arg(nc + k), rbody.arg(argX + k));
  std::unordered_set<const ir::Op *> recomputed;
  for (auto &op : body.ops())
    if (op.get() != yield)
      recomputed.insert(ir::cloneOp(rb, *op, map));

  std::vector<Value *> seeds(captured.begin(), captured.end());
  for (size_t i : diffCarries)
    seeds.push_back(rbody.arg(argC + i));
  for (size_t k : diffSeqs)
    seeds.push_back(rbody.arg(argX + k));
  auto active = activeValues(rbody, seeds);
  Adjoints local(active, adj.options());
  for (size_t n = 0; n < diffCarries.size(); ++n) {
    Value *y = map.lookup(yield->operand(diffCarries[n]));
    if (local.isActive(y))
      WEFT_TRY(local.accumulate(rb, y, rbody.arg(argDC + n)));
  }
  for (size_t n = 0; n < diffEmits.size(); ++n) {
    Value *y = map.lookup(yield->operand(nc + diffEmits[n]));
    if (local.isActive(y))
      WEFT_TRY(local.accumulate(rb, y, rbody.arg(argDE + n)));
  }
  WEFT_TRY(backpropBlock(rb, rbody, local));

  Emit re(rb, scan.loc());
  std::vector<Value *> ys;
  for (size_t i : diffCarries) {
    Value *d = local.get(rbody.arg(argC + i));
    ys.push_back(d ? d : re.zerosLike(rbody.arg(argC + i)));
  }
  if (int64_t k = adj.options().truncate; k > 0 && !diffCarries.empty()) {
    // Truncated BPTT: at a step t that is a multiple of k the state gradient stops.
    ir::OpBuilder before(b.block());
    before.setInsertionPointBefore(*rev);
    Value *flowing = truncationMask(before, steps, k, scan.loc());
    std::vector<Value *> operands = (*rev)->operands();
    operands.push_back(flowing);
    (*rev)->setOperands(operands);
    (*rev)->setAttr(ir::AttrId::NumSeq, (*rev)->numSeq() + 1);
    Value *flows = rbody.addArg(ir::Type({}, ir::DType::I1), "flows");
    for (size_t n = 0; n < diffCarries.size(); ++n) {
      const ir::Type &t = ys[n]->type();
      Value *mask = re.broadcast(flows, {}, t.withDType(ir::DType::I1));
      ys[n] = re.select(mask, ys[n], re.zerosLike(ys[n]));
    }
  }
  for (size_t w = 0; w < captured.size(); ++w) {
    Value *acc = rbody.arg(argAcc + w);
    Value *d = local.get(captured[w]);
    ys.push_back(d ? re.add(acc, d) : acc);
  }
  for (size_t k : diffSeqs) {
    Value *d = local.get(rbody.arg(argX + k));
    ys.push_back(d ? d : re.zerosLike(rbody.arg(argX + k)));
  }
  WEFT_TRY(rb.create(OpKind::Yield, ys, {}, {}, scan.loc()).status());
  if (adj.options().residuals == Residuals::Stash)
    stashResiduals(scan, **rev, map, recomputed);
  WEFT_TRY(b.finishRegionOp(*rev));

  std::vector<Value *> grads(scan.numOperands(), nullptr);
  for (size_t n = 0; n < diffCarries.size(); ++n)
    grads[diffCarries[n]] = (*rev)->result(n);
  for (size_t w = 0; w < captured.size(); ++w)
    WEFT_TRY(adj.accumulate(b, captured[w], (*rev)->result(argAcc + w)));
  for (size_t n = 0; n < diffSeqs.size(); ++n)
    grads[nc + diffSeqs[n]] = (*rev)->result(numCarry + n);
  return grads;
}

Expected<ir::Op *> lowerScanLengths(ir::Op *scan) {
  auto groups = ir::scanOperands(scan->numOperands(), scan->attrs());
  WEFT_TRY(groups.status());
  if (!groups->hasLengths)
    return scan;
  size_t nc = groups->numCarry, ns = groups->numSeq;
  Value *len = scan->operand(scan->numOperands() - 1);
  const ir::Type &seq = scan->operand(nc)->type();
  ir::Dim steps = seq.dim(0), batch = len->type().dim(0);

  // mask[t, b] = t < len[b], computed before the scan.
  ir::OpBuilder b(*scan->parentBlock());
  b.setInsertionPointBefore(scan);
  Emit e(b, scan->loc());
  ir::Type tb({steps, batch}, ir::DType::I64);
  Value *t = e.op(OpKind::Iota, {}, {{"axis", int64_t(0)}}, {tb});
  Value *len64 = len->type().dtype() == ir::DType::I64 ? len : e.cast(len, ir::DType::I64);
  Value *mask = e.op(OpKind::Lt, {t, e.broadcast(len64, {1}, tb)});

  std::vector<Value *> operands(scan->operands().begin(), scan->operands().end() - 1);
  operands.push_back(mask);
  scan->setOperands(operands);
  scan->setAttr(ir::AttrId::NumSeq, int64_t(ns + 1));
  ir::Block &body = scan->region();
  Value *m = body.addArg(ir::Type({batch}, ir::DType::I1), "mask");

  ir::Op *yield = body.back();
  ir::OpBuilder in(body);
  in.setInsertionPointBefore(yield);
  Emit ie(in, scan->loc());
  std::vector<Value *> ys = yield->operands();
  for (size_t i = 0; i < ys.size(); ++i) {
    const ir::Type &ty = ys[i]->type();
    std::vector<int64_t> dims{0};
    Value *mb = ty.rank() == 1 ? m : ie.broadcast(m, dims, ty.withDType(ir::DType::I1));
    Value *keep = i < nc ? body.arg(i) : ie.zerosLike(ys[i]);
    ys[i] = ie.select(mb, ys[i], keep);
  }
  yield->setOperands(ys);
  return scan;
}

} // namespace weft::autodiff
