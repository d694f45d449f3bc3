//===- passes/FuseAdditiveAttention.cpp - Bahdanau's attention -> one op --===//
//
// Finds additive (Bahdanau) attention written out in primitives, as nn::BahdanauAttention and a
// hand-written decoder step produce it, and replaces it by one `additive_attention` op
// (ir/Ops.def). Matched from the context backwards, over [B, S, A] keys and [B, S, D] values:
//
//   c = reshape(matmul(reshape(p, [B,1,S]), values), [B,D])     the context
//     | reduce_sum(mul(R(p), values), axes=[1])                  (either operand order)
//   p = div(e, R(reduce_sum(e, axes=[1])))                       softmax over S
//   e = exp(sub(x, R(reduce_max(x, axes=[1])))) | exp(x)
//   x = add(s, mask) | add(mask, s) | s                          an additive mask [B,S]
//   s = reduce_sum(mul(h, R(v)), axes=[2])                       (either operand order)
//   h = tanh(add(kp, R(qp)))                                     (either operand order)
//
// R(x) is x brought back to the full shape along one axis: a broadcast of x, or of x reshaped
// with a 1 on that axis (what keepdims and the DSL's broadcasting write). qp [B,A], v [A].
// The keys' projection kp must be invariant in the loop around the match (defined outside the
// innermost scan or while body; run licm first): that is what makes the op pay, as the
// projection of the encoder's outputs is computed once. Left alone: a softmax over another axis,
// a mask that is not added, a kp that depends on the loop, and anything else not listed.
//
// The weights p keep their other users (an alignment history, say), which read the op's second
// result. The replaced chain is erased where nothing else reads it.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Uses.h"
#include "ir/Walk.h"
#include "passes/Passes.h"
#include "transforms/DeadCode.h"

#include <algorithm>
#include <unordered_set>

namespace weft::passes {
namespace {

using ir::Op;
using ir::OpKind;
using ir::Value;

Op *defOf(Value *v, OpKind k) {
  Op *d = v ? v->definingOp() : nullptr;
  return d && d->kind() == k ? d : nullptr;
}

/// The x whose broadcast along axis `along` of `v`'s shape `v` is (R(x) above), or nullptr.
/// x has v's shape without that axis, or with a 1 there (then it needs a reshape).
Value *broadcastSource(Value *v, int64_t along, std::vector<Op *> &chain) {
  Op *bc = defOf(v, OpKind::Broadcast);
  if (!bc)
    return nullptr;
  const ir::Type &full = v->type();
  int64_t r = full.rank();
  Value *u = bc->operand(0);
  std::vector<ir::Dim> want = full.dims();
  want.erase(want.begin() + along);
  std::vector<int64_t> dropped, all;
  for (int64_t i = 0; i < r; ++i) {
    all.push_back(i);
    if (i != along)
      dropped.push_back(i);
  }
  if (bc->dims() == dropped && u->type().dims() == want) {
    chain.push_back(bc);
    return u;
  }
  std::vector<ir::Dim> kept = full.dims();
  kept[static_cast<size_t>(along)] = ir::Dim(1);
  if (bc->dims() != all || u->type().dims() != kept)
    return nullptr;
  chain.push_back(bc);
  if (Op *rs = defOf(u, OpKind::Reshape); rs && rs->operand(0)->type().dims() == want) {
    chain.push_back(rs);
    return rs->operand(0);
  }
  return u;
}

/// `v` is reduce_<k>(x, axes=[axis]) brought back by R along `axis`; x, or nullptr.
Value *reducedRows(Value *v, OpKind k, int64_t axis, std::vector<Op *> &chain) {
  Value *u = broadcastSource(v, axis, chain);
  Op *red = defOf(u, k);
  if (!red || red->axes() != std::vector<int64_t>{axis} || u->type().rank() != 1)
    return nullptr;
  chain.push_back(red);
  return red->operand(0);
}

struct Match {
  Value *qp = nullptr, *kp = nullptr, *v = nullptr, *values = nullptr, *mask = nullptr;
  Value *weights = nullptr; // p, whose users read the op's weights
  Op *softmaxDiv = nullptr; // the new op goes before it
  std::vector<Op *> chain;
};

/// Both operands of a commutative op, in the order `first` then the other.
template <typename F> bool eitherOrder(Op *op, F &&f) {
  return f(op->operand(0), op->operand(1)) || f(op->operand(1), op->operand(0));
}

/// `bv` [B,S,A] is v [A] broadcast over B and S: broadcast {dims = [2]} of v, or
/// broadcast {dims = [0, 1, 2]} of v reshaped to [1, 1, A]; v, or nullptr.
Value *unitVector(Value *bv, std::vector<Op *> &chain) {
  Op *bc = defOf(bv, OpKind::Broadcast);
  if (!bc)
    return nullptr;
  Value *u = bc->operand(0);
  const ir::Dim &units = bv->type().dim(2);
  if (bc->dims() == std::vector<int64_t>{2} && u->type().dims() == std::vector<ir::Dim>{units}) {
    chain.push_back(bc);
    return u;
  }
  Op *rs = defOf(u, OpKind::Reshape);
  if (bc->dims() != std::vector<int64_t>{0, 1, 2} || !rs ||
      u->type().dims() != std::vector<ir::Dim>{ir::Dim(1), ir::Dim(1), units} ||
      rs->operand(0)->type().dims() != std::vector<ir::Dim>{units})
    return nullptr;
  chain.insert(chain.end(), {bc, rs});
  return rs->operand(0);
}

/// p = softmax over axis 1 of x, [B,S]; fills m.weights and returns x, or nullptr.
Value *softmaxRows(Value *p, Match &m) {
  Op *div = defOf(p, OpKind::Div);
  if (!div || p->type().rank() != 2)
    return nullptr;
  Value *e = div->operand(0);
  if (reducedRows(div->operand(1), OpKind::ReduceSum, 1, m.chain) != e)
    return nullptr;
  Op *ex = defOf(e, OpKind::Exp);
  if (!ex)
    return nullptr;
  m.chain.insert(m.chain.end(), {div, ex});
  m.softmaxDiv = div;
  m.weights = p;
  Value *x = ex->operand(0);
  if (Op *sub = defOf(x, OpKind::Sub)) {
    std::vector<Op *> trial;
    if (reducedRows(sub->operand(1), OpKind::ReduceMax, 1, trial) == sub->operand(0)) {
      m.chain.insert(m.chain.end(), trial.begin(), trial.end());
      m.chain.push_back(sub);
      x = sub->operand(0);
    }
  }
  return x;
}

/// s = v . tanh(kp + qp) over the units, [B,S]; fills qp, kp and v.
bool scores(Value *s, Match &m) {
  Op *sum = defOf(s, OpKind::ReduceSum);
  if (!sum || sum->axes() != std::vector<int64_t>{2} || sum->operand(0)->type().rank() != 3)
    return false;
  Op *mul = defOf(sum->operand(0), OpKind::Mul);
  if (!mul)
    return false;
  std::vector<Op *> chain = {sum, mul};
  Op *tanh = nullptr;
  bool ok = eitherOrder(mul, [&](Value *h, Value *bv) {
    tanh = defOf(h, OpKind::Tanh);
    Value *v = tanh ? unitVector(bv, chain) : nullptr;
    m.v = v;
    return v != nullptr;
  });
  if (!ok)
    return false;
  Op *add = defOf(tanh->operand(0), OpKind::Add);
  if (!add)
    return false;
  chain.insert(chain.end(), {tanh, add});
  ok = eitherOrder(add, [&](Value *kp, Value *bq) {
    std::vector<Op *> trial;
    Value *qp = broadcastSource(bq, 1, trial);
    if (!qp)
      return false;
    m.kp = kp;
    m.qp = qp;
    chain.insert(chain.end(), trial.begin(), trial.end());
    return true;
  });
  if (!ok)
    return false;
  m.chain.insert(m.chain.end(), chain.begin(), chain.end());
  return true;
}

/// The context c [B,D] from the weights p; fills everything else or returns false.
bool context(Op &final, const ir::Uses &uses, Match &m) {
  Value *p = nullptr;
  if (final.kind() == OpKind::Reshape) {
    Op *mm = defOf(final.operand(0), OpKind::Matmul);
    Op *rows = mm ? defOf(mm->operand(0), OpKind::Reshape) : nullptr;
    if (!rows || mm->operand(1)->type().rank() != 3 || rows->operand(0)->type().rank() != 2)
      return false;
    if (uses.count(mm->result()) != 1 || uses.count(rows->result()) != 1)
      return false;
    p = rows->operand(0);
    m.values = mm->operand(1);
    m.chain.insert(m.chain.end(), {&final, mm, rows});
  } else if (final.kind() == OpKind::ReduceSum) {
    Op *mul = defOf(final.operand(0), OpKind::Mul);
    if (!mul || final.axes() != std::vector<int64_t>{1} || mul->result()->type().rank() != 3 ||
        uses.count(mul->result()) != 1)
      return false;
    bool ok = eitherOrder(mul, [&](Value *bp, Value *values) {
      std::vector<Op *> trial;
      p = broadcastSource(bp, 2, trial);
      if (!p)
        return false;
      m.values = values;
      m.chain.insert(m.chain.end(), trial.begin(), trial.end());
      return true;
    });
    if (!ok)
      return false;
    m.chain.insert(m.chain.end(), {&final, mul});
  } else {
    return false;
  }
  Value *x = softmaxRows(p, m);
  if (!x)
    return false;
  if (scores(x, m))
    return true;
  Op *add = defOf(x, OpKind::Add);
  if (!add)
    return false;
  m.chain.push_back(add);
  return eitherOrder(add, [&](Value *s, Value *mask) {
    if (!scores(s, m))
      return false;
    m.mask = mask;
    return true;
  });
}

/// Whether `v` is defined inside `loop`'s body (a block argument of it included).
bool definedInside(const Value *v, const Op *loop) {
  const ir::Block *block = v->isBlockArg() ? v->ownerBlock() : v->definingOp()->parentBlock();
  for (const Op *p = block ? block->parentOp() : nullptr; p; p = p->parentOp())
    if (p == loop)
      return true;
  return false;
}

/// The innermost scan or while whose body holds `op`, or nullptr.
const Op *enclosingLoop(const Op &op) {
  for (const Op *p = op.parentOp(); p; p = p->parentOp())
    if (p->kind() == OpKind::Scan || p->kind() == OpKind::While)
      return p;
  return nullptr;
}

/// Whether `v` is available before `at`: defined in an enclosing block, or earlier in its own.
bool availableBefore(const Value *v, const Op &at) {
  const Op *d = v->definingOp();
  if (!d || d->parentBlock() != at.parentBlock())
    return true; // SSA: a value used in at's block comes from it or from around it
  for (const auto &op : at.parentBlock()->ops()) {
    if (op.get() == d)
      return true;
    if (op.get() == &at)
      return false;
  }
  return false;
}

/// Checks the match as a whole: shapes of one op, and kp invariant in the loop around it.
bool acceptable(const Match &m, const Op &final) {
  const ir::Type &q = m.qp->type(), &k = m.kp->type(), &vals = m.values->type();
  if (k.rank() != 3 || q.rank() != 2 || vals.rank() != 3 || m.v->type().rank() != 1)
    return false;
  if (m.softmaxDiv->parentBlock() != final.parentBlock())
    return false;
  if (m.mask && m.mask->type() != m.weights->type())
    return false;
  if (const Op *loop = enclosingLoop(final); loop && definedInside(m.kp, loop))
    return false;
  return availableBefore(m.values, *m.softmaxDiv);
}

Expected<bool> fuseFunction(ir::Function &f) {
  std::vector<Op *> finals;
  ir::walk(f.body(), [&](Op &op) {
    if (op.kind() == OpKind::Reshape || op.kind() == OpKind::ReduceSum)
      finals.push_back(&op);
  });
  ir::Uses uses(f.body());
  std::unordered_set<const Op *> replaced;
  for (Op *final : finals) {
    if (replaced.count(final))
      continue;
    Match m;
    if (!context(*final, uses, m) || !acceptable(m, *final))
      continue;
    Loc loc = final->loc();
    ir::OpBuilder b(*m.softmaxDiv->parentBlock());
    b.setInsertionPointBefore(m.softmaxDiv);
    Value *qp = m.qp;
    if (qp->type().rank() == 3) { // [B,1,A] -> [B,A]
      auto r =
          b.create1(OpKind::Reshape, {qp}, {},
                    {ir::Type({qp->type().dim(0), qp->type().dim(2)}, qp->type().dtype())}, loc);
      WEFT_TRY(r.status());
      qp = *r;
    }
    std::vector<Value *> xs = {qp, m.kp, m.v, m.values};
    if (m.mask)
      xs.push_back(m.mask);
    auto att = b.create(OpKind::AdditiveAttention, xs, {}, {}, loc);
    if (!att) // shapes that matched piecewise but do not make one op: leave the chain alone
      continue;
    Value *ctx = (*att)->result(0), *weights = (*att)->result(1);
    uses.replaceAllUsesWith(final->result(), ctx);
    uses.replaceAllUsesWith(m.weights, weights);
    ctx->setName(final->result()->name());
    weights->setName(m.weights->name());
    replaced.insert(m.chain.begin(), m.chain.end());
  }
  if (replaced.empty())
    return false;
  transforms::eraseDeadOps(
      f.body(), [&](const Op &op) { return replaced.count(&op) > 0 && transforms::isPureOp(op); });
  return true;
}

class FuseAdditiveAttentionPass final : public FunctionPass {
public:
  std::string_view name() const override { return "fuse-additive-attention"; }
  Expected<bool> runOnFunction(ir::Function &f) override { return fuseFunction(f); }
};

} // namespace

std::unique_ptr<Pass> createFuseAdditiveAttentionPass() {
  return std::make_unique<FuseAdditiveAttentionPass>();
}

} // namespace weft::passes
