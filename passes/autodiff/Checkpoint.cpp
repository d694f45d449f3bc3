//===- passes/autodiff/Checkpoint.cpp - scans as segments of k steps ------===//
//
//   scan carry(c) over(xs: [T, ...])        ->   scan carry(c) over(reshape(xs[0:q*k]): [q, k,
//   ...]) {
//     F(c, x_t)                                     scan carry(c_seg) over(x_seg: [k, ...]) {
//                                                     F(c, x_t)
//                                                   }
//                                                 }
//                                                 scan carry(c_q) over(xs[q*k:T]) { F(c, x_t) }
//                                                 emits: concat(reshape(segment emits), tail emits)
//
// with q = T / k segments and a tail of T mod k steps (none when k divides T); a
// reverse scan runs the tail first. The same computation, but its VJP (BPTT) now
// stacks only the carries that enter each segment; the outer reverse scan
// recomputes a segment's inner scan, whose own VJP holds the residuals of just
// those k steps.
//
// Scans with lengths are lowered before they get here (lowerScanLengths): the
// mask m[t, b] = t < len[b] is one more sequence, segmented like the others, so
// a recomputed segment masks exactly as the forward scan did.
//
//===----------------------------------------------------------------------===//
#include "ir/Clone.h"
#include "ir/Infer.h"
#include "ir/Walk.h"
#include "passes/autodiff/Emit.h"
#include "passes/autodiff/VJP.h"

#include <fmt/format.h>

namespace weft::autodiff {

using ir::OpKind;
using ir::Value;

namespace {

ir::Type withLeading(std::vector<ir::Dim> lead, const ir::Type &t, size_t drop) {
  lead.insert(lead.end(), t.dims().begin() + drop, t.dims().end());
  return ir::Type(lead, t.dtype());
}

/// The first `n` results of `op` (a scan's carries).
std::vector<Value *> firstResults(const ir::Op &op, size_t n) {
  std::vector<Value *> rs = op.results();
  rs.resize(n);
  return rs;
}

/// A scan with the attributes and body of `scan` over `operands` (carries, then sequences),
/// built at `b`; its body arguments are named after the original's plus `suffix`.
Expected<ir::Op *> cloneScanOver(ir::OpBuilder &b, const ir::Op &scan,
                                 std::vector<Value *> operands, const std::string &suffix) {
  auto copy = b.beginRegionOp(OpKind::Scan, std::move(operands), scan.attrs(), scan.loc());
  WEFT_TRY(copy.status());
  ir::Block &body = (*copy)->region();
  ir::ValueMap map;
  for (size_t i = 0; i < body.numArgs(); ++i) {
    map.map(scan.region().arg(i), body.arg(i));
    if (const std::string &n = scan.region().arg(i)->name(); !n.empty())
      body.arg(i)->setName(n + suffix);
  }
  ir::OpBuilder ib(body);
  for (auto &op : scan.region().ops())
    ir::cloneOp(ib, *op, map);
  WEFT_TRY(b.finishRegionOp(*copy));
  return *copy;
}

} // namespace

Expected<bool> segmentScan(ir::Op *scan, int64_t k) {
  WEFT_CHECK(k > 0, "segmentScan needs a positive segment length");
  auto g = ir::scanOperands(scan->numOperands(), scan->attrs());
  WEFT_TRY(g.status());
  WEFT_CHECK(!g->hasLengths, "scans with lengths are lowered (lowerScanLengths) before they are "
                             "segmented, so that their mask is segmented with their sequences");
  const ir::Dim steps = scan->operand(g->numCarry)->type().dim(0);
  if (!steps.isStatic())
    return err(fmt::format("autodiff: checkpoint={} segments scans over a static number of "
                           "steps; this scan runs over {} steps (make it static or leave "
                           "checkpoint off)",
                           k, steps.str()),
               scan->loc());
  if (steps.size() <= k)
    return false; // one segment: the same residuals as without checkpointing
  const int64_t segments = steps.size() / k, headSteps = segments * k,
                tailSteps = steps.size() - headSteps;
  const bool reverse = scan->reverse();
  size_t nc = g->numCarry, ns = g->numSeq;
  ir::Block &parent = *scan->parentBlock();
  ir::OpBuilder b(parent);
  b.setInsertionPointBefore(scan);
  Emit e(b, scan->loc());
  std::vector<Value *> carries(scan->operands().begin(), scan->operands().begin() + nc);

  // The tail runs on the carries the segments leave (forward) or before them (reverse).
  auto runTail = [&](const std::vector<Value *> &from) -> Expected<ir::Op *> {
    std::vector<Value *> operands = from;
    for (size_t i = nc; i < nc + ns; ++i)
      operands.push_back(e.slice(scan->operand(i), 0, headSteps, steps.size()));
    return cloneScanOver(b, *scan, operands, "_tail");
  };
  ir::Op *tail = nullptr;
  if (tailSteps > 0 && reverse) {
    auto t = runTail(carries);
    WEFT_TRY(t.status());
    tail = *t;
    carries = firstResults(*tail, nc);
  }

  std::vector<Value *> outerOperands = carries;
  for (size_t i = nc; i < nc + ns; ++i) {
    Value *head = scan->operand(i);
    if (tailSteps > 0)
      head = e.slice(head, 0, 0, headSteps);
    outerOperands.push_back(
        e.reshape(head, withLeading({segments, k}, scan->operand(i)->type(), 1)));
  }
  auto outer = b.beginRegionOp(OpKind::Scan, outerOperands, scan->attrs(), scan->loc());
  WEFT_TRY(outer.status());
  ir::Block &obody = (*outer)->region();
  for (size_t i = 0; i < obody.numArgs(); ++i)
    if (const std::string &n = scan->region().arg(i)->name(); !n.empty())
      obody.arg(i)->setName(n + "_seg");
  ir::OpBuilder ob(obody);
  auto inner = cloneScanOver(ob, *scan, obody.args(), "");
  WEFT_TRY(inner.status());
  WEFT_TRY(ob.create(OpKind::Yield, (*inner)->results(), {}, {}, scan->loc()).status());
  WEFT_TRY(b.finishRegionOp(*outer));

  if (tailSteps > 0 && !reverse) {
    auto t = runTail(firstResults(**outer, nc));
    WEFT_TRY(t.status());
    tail = *t;
  }

  std::unordered_map<Value *, Value *> replace;
  for (size_t i = 0; i < scan->numResults(); ++i) {
    const ir::Type &type = scan->result(i)->type();
    Value *r = nullptr;
    if (i < nc) {
      r = (tail && !reverse ? tail : *outer)->result(i);
    } else {
      r = e.reshape((*outer)->result(i), withLeading({headSteps}, type, 1));
      if (tail)
        r = e.op(OpKind::Concat, {r, tail->result(i)}, {{"axis", int64_t(0)}});
    }
    r->setName(scan->result(i)->name());
    replace[scan->result(i)] = r;
  }
  ir::replaceUses(parent, replace);
  parent.erase(scan);
  return true;
}

} // namespace weft::autodiff
