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
// The matching of the softmax and the context is shared with fuse-lstm-attention
// (passes/AttentionMatch.h). The weights p keep their other users (an alignment history, say),
// which read the op's second result. The replaced chain is erased where nothing else reads it.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Uses.h"
#include "ir/Walk.h"
#include "passes/AttentionMatch.h"
#include "passes/Passes.h"
#include "transforms/DeadCode.h"

#include <algorithm>
#include <unordered_set>

namespace weft::passes {
namespace {

using ir::Op;
using ir::OpKind;
using ir::Value;
using namespace attention;

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
    if (!context(*final, uses, m, scores) || !acceptable(m, *final))
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
