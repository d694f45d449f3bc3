//===- passes/HoistInputProjections.cpp - one GEMM over all input steps ---===//
//
// A recurrent cell projects its input at every step:
//
//   p_t = matmul(s_t, W)        s_t: [b, I], a step of sequence S: [T, b, I]; W: [I, N]
//
// one small GEMM per step although neither operand depends on the carries. This
// pass computes all steps before the loop as one GEMM with T times the rows,
//
//   P = reshape(matmul(reshape(S, [T*b, I]), W), [T, b, N])
//
// passes P to the scan as a new sequence and uses its step instead of p_t. The
// per-step matmul becomes dead and dce removes it. Sequences are indexed by t
// in reverse scans and scans with lengths too, so P[t] is s_t's product there
// as well; padded steps compute a product that the mask then ignores.
//
// A cell that multiplies the joined input and state, matmul(concat(s_t, h), W) (or
// concat(h, s_t)), is split first: W's rows for s_t go to the hoisted GEMM, and the step
// keeps add(matmul(h, W_h), P_t), with both row slices of W taken before the loop. The sum
// over the joined row is then two sums added, rounded differently than one.
//
// The forward twin of hoist-weight-gradients.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Infer.h"
#include "ir/Uses.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include <cstddef>
#include <map>
#include <utility>

namespace weft::passes {
namespace {

using ir::OpKind;
using ir::Value;

/// Whether `v` is defined in `body` or in a region nested in it (so it may vary per step).
bool definedUnder(Value *v, const ir::Block &body) {
  ir::Block *block = v->isBlockArg() ? v->ownerBlock() : v->definingOp()->parentBlock();
  while (block) {
    if (block == &body)
      return true;
    ir::Op *parent = block->parentOp();
    block = parent ? parent->parentBlock() : nullptr;
  }
  return false;
}

class Hoister {
public:
  /// Hoists every qualifying step matmul directly in `scan`'s body; returns whether anything
  /// changed.
  Expected<bool> run(ir::Op &scan) {
    auto groups = ir::scanOperands(scan.numOperands(), scan.attrs());
    WEFT_TRY(groups.status());
    ir::Block &body = scan.region();
    std::vector<ir::Op *> joined;
    {
      ir::Uses uses(body);
      for (auto &op : body.ops())
        if (joinedStep(*op, scan, *groups, uses))
          joined.push_back(op.get());
    }
    for (ir::Op *mm : joined)
      WEFT_TRY(splitJoined(scan, mm, *groups));

    ir::Uses uses(body);
    std::vector<ir::Op *> steps;
    for (auto &op : body.ops())
      if (qualifies(*op, scan, *groups, uses))
        steps.push_back(op.get());

    // One new sequence per (sequence, weight) pair.
    std::map<std::pair<Value *, Value *>, Value *> hoisted;
    for (ir::Op *mm : steps) {
      Value *seq = scan.operand(mm->operand(0)->index());
      Value *w = mm->operand(1);
      Value *&step = hoisted[{seq, w}];
      if (!step) {
        auto s = addProjection(scan, mm, seq, w);
        WEFT_TRY(s.status());
        step = *s;
      }
      uses.replaceAllUsesWith(mm->result(), step);
      mm->result()->setName({}); // the step argument took the name
    }
    return !steps.empty() || !joined.empty();
  }

private:
  /// Whether `op` is a rank-2 matmul whose result is used (a dead one was already rewritten and
  /// awaits dce, so a second run changes nothing).
  static bool liveMatrixProduct(const ir::Op &op, const ir::Uses &uses) {
    return op.kind() == OpKind::Matmul && op.result()->type().rank() == 2 && uses.used(op.result());
  }

  /// Whether `v` is the body argument of one of `scan`'s rank-3 sequences.
  static bool isSequenceStep(const Value *v, const ir::Op &scan, const ir::ScanOperands &g) {
    return v->isBlockArg() && v->ownerBlock() == &scan.region() && v->index() >= g.numCarry &&
           v->index() < g.numCarry + g.numSeq && scan.operand(v->index())->type().rank() == 3;
  }

  /// Whether `op` is a live matmul(concat(a, b) {axis = 1}, W) with exactly one of a, b a
  /// sequence step, W a matrix with static rows defined outside the body.
  static bool joinedStep(const ir::Op &op, const ir::Op &scan, const ir::ScanOperands &g,
                         const ir::Uses &uses) {
    if (!liveMatrixProduct(op, uses))
      return false;
    const ir::Op *cat = op.operand(0)->isBlockArg() ? nullptr : op.operand(0)->definingOp();
    Value *w = op.operand(1);
    if (!cat || cat->kind() != OpKind::Concat || cat->numOperands() != 2 || cat->axis() != 1 ||
        w->type().rank() != 2 || !w->type().dim(0).isStatic() || definedUnder(w, scan.region()))
      return false;
    bool first = isSequenceStep(cat->operand(0), scan, g);
    bool second = isSequenceStep(cat->operand(1), scan, g);
    return first != second && cat->operand(0)->type().dim(1).isStatic();
  }

  /// Rewrites matmul(concat(a, b), W) into add(matmul(a, W[0:Ia]), matmul(b, W[Ia:])), the row
  /// slices of W taken before `scan`; the step's half is then a plain step matmul.
  Status splitJoined(ir::Op &scan, ir::Op *mm, const ir::ScanOperands &g) {
    const ir::Op *cat = mm->operand(0)->definingOp();
    Value *w = mm->operand(1);
    Loc loc = mm->loc();
    int64_t split = cat->operand(0)->type().dim(1).size(), rows = w->type().dim(0).size();
    ir::OpBuilder outer(*scan.parentBlock());
    outer.setInsertionPointBefore(&scan);
    auto rowsOf = [&](int64_t start, int64_t limit) {
      return outer.create1(OpKind::Slice, {w},
                           {{"axis", int64_t{0}}, {"start", start}, {"limit", limit}}, {}, loc);
    };
    auto w0 = rowsOf(0, split);
    WEFT_TRY(w0.status());
    auto w1 = rowsOf(split, rows);
    WEFT_TRY(w1.status());
    ir::OpBuilder inner(scan.region());
    inner.setInsertionPointBefore(mm);
    // The step's product first, so that it is the matmul the hoisting below finds.
    bool stepFirst = isSequenceStep(cat->operand(0), scan, g);
    Value *step = cat->operand(stepFirst ? 0 : 1), *other = cat->operand(stepFirst ? 1 : 0);
    if (!w->name().empty()) { // W_in multiplies the input step, W_rec the other operand
      (stepFirst ? *w0 : *w1)->setName(w->name() + "_in");
      (stepFirst ? *w1 : *w0)->setName(w->name() + "_rec");
    }
    auto ps = inner.create1(OpKind::Matmul, {step, stepFirst ? *w0 : *w1}, {}, {}, loc);
    WEFT_TRY(ps.status());
    auto po = inner.create1(OpKind::Matmul, {other, stepFirst ? *w1 : *w0}, {}, {}, loc);
    WEFT_TRY(po.status());
    auto sum = inner.create1(OpKind::Add, {*po, *ps}, {}, {}, loc);
    WEFT_TRY(sum.status());
    (*sum)->setName(mm->result()->name());
    mm->result()->setName({});
    ir::Uses(scan.region()).replaceAllUsesWith(mm->result(), *sum);
    return {};
  }

  /// Whether `op` is a live matmul(s_t, W): s_t a body argument of a rank-3 sequence, W a
  /// matrix defined outside the body.
  static bool qualifies(const ir::Op &op, const ir::Op &scan, const ir::ScanOperands &g,
                        const ir::Uses &uses) {
    if (!liveMatrixProduct(op, uses))
      return false;
    Value *w = op.operand(1);
    return isSequenceStep(op.operand(0), scan, g) && w->type().rank() == 2 &&
           !definedUnder(w, scan.region());
  }

  /// Builds P = reshape(matmul(reshape(seq, [T*b, I]), w), [T, b, N]) before `scan`, adds it
  /// as the scan's last sequence and returns its body argument.
  Expected<Value *> addProjection(ir::Op &scan, ir::Op *mm, Value *seq, Value *w) {
    ir::OpBuilder b(*scan.parentBlock());
    b.setInsertionPointBefore(&scan);
    Loc loc = mm->loc();
    const ir::Type &st = seq->type();
    ir::Type flatType({st.dim(0) * st.dim(1), st.dim(2)}, st.dtype());
    auto flat = b.create1(OpKind::Reshape, {seq}, {}, {flatType}, loc);
    WEFT_TRY(flat.status());
    auto gemm = b.create1(OpKind::Matmul, {*flat, w}, {}, {}, loc);
    WEFT_TRY(gemm.status());
    const ir::Type &stepType = mm->result()->type();
    auto all = b.create1(OpKind::Reshape, {*gemm}, {}, {stepType.stacked(st.dim(0))}, loc);
    WEFT_TRY(all.status());
    const std::string &name = mm->result()->name();
    if (!name.empty())
      (*all)->setName(name + "_all");

    auto groups = ir::scanOperands(scan.numOperands(), scan.attrs());
    WEFT_TRY(groups.status());
    std::vector<Value *> operands = scan.operands();
    size_t numSeq = groups->numSeq;
    operands.insert(operands.begin() + static_cast<std::ptrdiff_t>(groups->numCarry + numSeq),
                    *all);
    scan.setOperands(std::move(operands));
    scan.setAttr(ir::AttrId::NumSeq, static_cast<int64_t>(numSeq + 1));
    return scan.region().addArg(stepType, name);
  }
};

class HoistInputProjectionsPass : public Pass {
public:
  std::string_view name() const override { return "hoist-input-projections"; }

  Expected<bool> run(ir::Module &m) override {
    Hoister h;
    return rewriteEachScan(m, [&](ir::Op &scan) { return h.run(scan); });
  }
};

} // namespace

std::unique_ptr<Pass> createHoistInputProjectionsPass() {
  return std::make_unique<HoistInputProjectionsPass>();
}

} // namespace weft::passes
