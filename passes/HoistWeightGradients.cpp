//===- passes/HoistWeightGradients.cpp - one GEMM over all time steps -----===//
//
// BPTT accumulates a weight's gradient in a carry of the reverse scan:
//
//   acc' = add(acc, matmul(transpose(p_t), q_t))       p_t: [b, I], q_t: [b, H]
//
// one small GEMM per step. This pass makes the scan emit p_t and q_t instead
// (or reads them from the sequences they are slices of), lets the carry pass
// through unchanged, and after the loop computes
//
//   acc_T = acc_0 + matmul(transpose(reshape(P, [T*b, I])), reshape(Q, [T*b, H]))
//
// one GEMM with T times the inner dimension. The per-step ops become dead and
// dce removes them.
//
// It keeps the meaning only when every step adds to the sum and nothing but the
// carry reads it:
// - no `lengths`: a padded step (t >= len[b]) leaves row b of the carry alone,
//   and row b of acc is row b of p_t^T, not the GEMM's contraction axis. Such a
//   carry only type-checks when a column count of p happens to equal B, and
//   autodiff lowers lengths to selects before BPTT, so the mask is not worth it;
// - the sum acc' has one use, the yield into its own carry: an emit or another
//   op reading it needs the running sum at every step.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Infer.h"
#include "ir/ScanEmit.h"
#include "ir/Uses.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

namespace weft::passes {
namespace {

using ir::OpKind;
using ir::Value;

/// The op defining `v` when it is of kind `k` and directly in `block`, else nullptr.
ir::Op *definedIn(Value *v, OpKind k, const ir::Block &block) {
  ir::Op *op = v->definingOp();
  return op && op->kind() == k && op->parentBlock() == &block ? op : nullptr;
}

/// Whether `v` changes per step: a body argument or a value computed in the body.
bool perStep(Value *v, const ir::Block &body) {
  return v->isBlockArg() ? v->ownerBlock() == &body : v->definingOp()->parentBlock() == &body;
}

class Hoister {
public:
  /// Rewrites every accumulating carry of `scan`; returns whether anything changed.
  Expected<bool> run(ir::Op &scan) {
    auto groups = ir::scanOperands(scan.numOperands(), scan.attrs());
    WEFT_TRY(groups.status());
    if (groups->hasLengths)
      return false;
    bool changed = false;
    for (size_t i = 0; i < groups->numCarry; ++i) {
      auto r = hoistCarry(scan, i, *groups);
      WEFT_TRY(r.status());
      changed |= *r;
    }
    return changed;
  }

private:
  Expected<bool> hoistCarry(ir::Op &scan, size_t i, const ir::ScanOperands &g) {
    ir::Block &body = scan.region();
    ir::Op *yield = body.back();
    Value *acc = body.arg(i);
    ir::Op *add = definedIn(yield->operand(i), OpKind::Add, body);
    if (!add)
      return false;
    Value *term = add->operand(0) == acc ? add->operand(1) : add->operand(0);
    if ((add->operand(0) != acc && add->operand(1) != acc) || term == acc)
      return false;
    ir::Op *mm = definedIn(term, OpKind::Matmul, body);
    if (!mm || mm->result()->type().rank() != 2)
      return false;
    ir::Op *tp = definedIn(mm->operand(0), OpKind::Transpose, body);
    if (!tp || tp->perm() != std::vector<int64_t>{1, 0})
      return false;
    Value *p = tp->operand(0), *q = mm->operand(1);
    if (!perStep(p, body) || !perStep(q, body))
      return false;
    ir::Uses uses(body);
    if (uses.count(acc) != 1) // the accumulator feeds nothing but its own update
      return false;
    if (uses.count(add->result()) != 1) // and the update nothing but the carry's yield
      return false;

    Value *ps = stacked(scan, p, g), *qs = stacked(scan, q, g);
    yield->setOperand(i, acc);

    ir::OpBuilder b(*scan.parentBlock());
    b.setInsertionPoint(*scan.parentBlock(), std::next(scan.parentBlock()->iteratorOf(&scan)));
    Loc loc = scan.loc();
    auto flat = [&](Value *stack) -> Expected<Value *> {
      const ir::Type &t = stack->type();
      ir::Type to({t.dim(0) * t.dim(1), t.dim(2)}, t.dtype());
      return b.create1(OpKind::Reshape, {stack}, {}, {to}, loc);
    };
    auto pf = flat(ps), qf = flat(qs);
    WEFT_TRY(pf.status());
    WEFT_TRY(qf.status());
    auto pt = b.create1(OpKind::Transpose, {*pf}, {{"perm", std::vector<int64_t>{1, 0}}}, {}, loc);
    WEFT_TRY(pt.status());
    auto gemm = b.create1(OpKind::Matmul, {*pt, *qf}, {}, {}, loc);
    WEFT_TRY(gemm.status());
    auto total = b.create1(OpKind::Add, {scan.operand(i), *gemm}, {}, {}, loc);
    WEFT_TRY(total.status());
    (*total)->setName(scan.result(i)->name());
    ir::Uses(*scan.parentBlock()).replaceAllUsesWith(scan.result(i), *total);
    return true;
  }

  /// The per-step value `v` stacked over the steps: the sequence it is a slice of, or a new
  /// emit of the scan.
  Value *stacked(ir::Op &scan, Value *v, const ir::ScanOperands &g) {
    if (v->isBlockArg() && v->index() >= g.numCarry && v->index() < g.numCarry + g.numSeq)
      return scan.operand(v->index());
    return ir::stackedEmit(scan, v);
  }
};

class HoistWeightGradientsPass : public Pass {
public:
  std::string_view name() const override { return "hoist-weight-gradients"; }

  Expected<bool> run(ir::Module &m) override {
    Hoister h;
    return rewriteEachScan(m, [&](ir::Op &scan) { return h.run(scan); });
  }
};

} // namespace

std::unique_ptr<Pass> createHoistWeightGradientsPass() {
  return std::make_unique<HoistWeightGradientsPass>();
}

} // namespace weft::passes
