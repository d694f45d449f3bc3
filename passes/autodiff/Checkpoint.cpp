//===- passes/autodiff/Checkpoint.cpp - scans as segments of k steps ------===//
//
//   scan carry(c) over(xs: [T, ...])        ->   scan carry(c) over(reshape(xs): [T/k, k, ...]) {
//     F(c, x_t)                                     scan carry(c_seg) over(x_seg: [k, ...]) {
//                                                     F(c, x_t)
//                                                   }
//                                                 }   emits reshaped back to [T, ...]
//
// The same computation, but its VJP (BPTT) now stacks only the carries that
// enter each segment; the outer reverse scan recomputes a segment's inner scan,
// whose own VJP holds the residuals of just those k steps.
//
//===----------------------------------------------------------------------===//
#include "ir/Clone.h"
#include "ir/Infer.h"
#include "ir/Walk.h"
#include "passes/autodiff/Emit.h"
#include "passes/autodiff/VJP.h"

namespace weft::autodiff {

using ir::OpKind;
using ir::Value;

namespace {

ir::Type withLeading(std::vector<ir::Dim> lead, const ir::Type &t, size_t drop) {
  lead.insert(lead.end(), t.dims().begin() + drop, t.dims().end());
  return ir::Type(lead, t.dtype());
}

} // namespace

Expected<bool> segmentScan(ir::Op *scan, int64_t k) {
  auto g = ir::scanOperands(scan->numOperands(), scan->attrs());
  WEFT_TRY(g.status());
  if (g->hasLengths || k <= 0)
    return false;
  const ir::Dim steps = scan->operand(g->numCarry)->type().dim(0);
  if (!steps.isStatic() || steps.size() % k != 0 || steps.size() <= k)
    return false;
  int64_t segments = steps.size() / k;
  size_t nc = g->numCarry, ns = g->numSeq;
  ir::Block &parent = *scan->parentBlock();
  ir::OpBuilder b(parent);
  b.setInsertionPointBefore(scan);
  Emit e(b, scan->loc());

  std::vector<Value *> outerOperands(scan->operands().begin(), scan->operands().begin() + nc);
  for (size_t i = nc; i < nc + ns; ++i)
    outerOperands.push_back(
        e.reshape(scan->operand(i), withLeading({segments, k}, scan->operand(i)->type(), 1)));
  auto outer = b.beginRegionOp(OpKind::Scan, outerOperands, scan->attrs(), scan->loc());
  WEFT_TRY(outer.status());
  ir::Block &obody = (*outer)->region();
  for (size_t i = 0; i < obody.numArgs(); ++i)
    if (const std::string &n = scan->region().arg(i)->name(); !n.empty())
      obody.arg(i)->setName(n + "_seg");
  ir::OpBuilder ob(obody);
  auto inner = ob.beginRegionOp(OpKind::Scan, obody.args(), scan->attrs(), scan->loc());
  WEFT_TRY(inner.status());
  ir::Block &ibody = (*inner)->region();
  ir::ValueMap map;
  for (size_t i = 0; i < ibody.numArgs(); ++i) {
    map.map(scan->region().arg(i), ibody.arg(i));
    ibody.arg(i)->setName(scan->region().arg(i)->name());
  }
  ir::OpBuilder ib(ibody);
  for (auto &op : scan->region().ops())
    ir::cloneOp(ib, *op, map);
  WEFT_TRY(ob.finishRegionOp(*inner));
  WEFT_TRY(ob.create(OpKind::Yield, (*inner)->results(), {}, {}, scan->loc()).status());
  WEFT_TRY(b.finishRegionOp(*outer));

  std::unordered_map<Value *, Value *> replace;
  for (size_t i = 0; i < scan->numResults(); ++i) {
    Value *r = (*outer)->result(i);
    if (i >= nc)
      r = e.reshape(r, scan->result(i)->type());
    r->setName(scan->result(i)->name());
    replace[scan->result(i)] = r;
  }
  ir::replaceUses(parent, replace);
  parent.erase(scan);
  return true;
}

} // namespace weft::autodiff
