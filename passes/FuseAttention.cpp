//===- passes/FuseAttention.cpp - softmax(q k^T * scale + mask) v -> attention ===//
//
// Finds scaled dot-product attention written out in primitives and replaces it by one
// `attention` op (ir/Ops.def), which the CPU backend runs with an online softmax that never
// holds the Tq x Tk scores. Matched from the final matmul backwards, over rank r >= 2:
//
//   o = matmul(p, v)
//   p = div(e, B(reduce_sum(e, axes=[r-1])))            softmax: the sum over the last axis
//   e = exp(sub(s, B(reduce_max(s, axes=[r-1]))))       with the max subtracted, or exp(s)
//   s = add(s', mask) | add(mask, s')                   any number of additive masks (one kept)
//     | select(causal, s', -inf)                        causal: iota(r-2) >= iota(r-1)
//     | add(s', C) | add(s', C + mask)                  causal too: C = select(causal, 0, -inf)
//     | mul(s', c) | mul(c, s') | div(s', c)            c a splat constant: the scale
//     | matmul(q, transpose(k, swap last two))          or matmul(q, kt): k = transpose(kt)
//
// B(x) is x brought back to the scores' shape: a broadcast of x, or of x reshaped with a
// trailing 1 (what keepdims writes). A mask that is a broadcast of a smaller tensor is passed
// as that tensor reshaped to rank r with 1s (the op broadcasts it), so a key-padding mask
// [B, Tk] stays [B, 1, 1, Tk]. An additive causal mask C (what nn::causalMask makes, possibly
// broadcast, alone or added to another mask) becomes the causal flag rather than a Tq x Tk
// operand. Left alone: a softmax over another axis, a mask that is not
// added (multiplied, say), a scale that is not a splat constant, a select that is not the
// causal one, and attention weights p that something else also reads.
//
// The replaced chain is erased, with what only it used; nothing else is.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Uses.h"
#include "ir/Walk.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"
#include "transforms/DeadCode.h"

#include <cmath>
#include <unordered_set>

namespace weft::passes {
namespace {

using ir::Op;
using ir::OpKind;
using ir::Value;

Op *defOf(Value *v, OpKind k) {
  Op *d = v->definingOp();
  return d && d->kind() == k ? d : nullptr;
}

/// The value of a splat constant, or of a broadcast of one.
std::optional<double> splatOrBroadcast(Value *v) {
  if (Op *bc = defOf(v, OpKind::Broadcast))
    v = bc->operand(0);
  return splatValue(v);
}

/// What the matcher found.
struct Match {
  Value *q = nullptr, *k = nullptr, *kt = nullptr, *v = nullptr;
  Value *mask = nullptr; // of the scores' shape, possibly a broadcast
  double scale = 1;
  bool causal = false;
  std::vector<Op *> chain; // the matched ops, erased once dead
};

class Matcher {
public:
  explicit Matcher(const ir::Uses &uses) : uses_(uses) {}

  std::optional<Match> match(Op &final) {
    Match m;
    Value *p = final.operand(0);
    m.v = final.operand(1);
    if (uses_.count(p) != 1 || !probabilities(p, m))
      return std::nullopt;
    m.chain.push_back(&final);
    return m;
  }

private:
  const ir::Uses &uses_;
  int64_t rank_ = 0;

  /// Whether `v` is B(reduce_<k>(x, axes=[r-1])) of the scores' shape; `x` set when so.
  bool rowReduction(Value *v, OpKind k, Value *&x, Match &m) {
    Op *bc = defOf(v, OpKind::Broadcast);
    if (!bc)
      return false;
    Value *u = bc->operand(0);
    std::vector<int64_t> want(static_cast<size_t>(rank_ - 1));
    for (int64_t i = 0; i < rank_ - 1; ++i)
      want[static_cast<size_t>(i)] = i;
    Op *rs = defOf(u, OpKind::Reshape);
    if (rs) { // keepdims: [..., 1]
      const ir::Type &from = rs->operand(0)->type(), &to = u->type();
      std::vector<ir::Dim> kept = from.dims();
      kept.push_back(ir::Dim(1));
      if (to.dims() != kept)
        return false;
      want.push_back(rank_ - 1);
      u = rs->operand(0);
    }
    if (bc->dims() != want)
      return false;
    Op *red = defOf(u, k);
    if (!red || red->axes() != std::vector<int64_t>{rank_ - 1})
      return false;
    x = red->operand(0);
    m.chain.insert(m.chain.end(), {bc, red});
    if (rs)
      m.chain.push_back(rs);
    return true;
  }

  /// p = e / B(sum(e)) with e = exp(s - B(max(s))) or exp(s).
  bool probabilities(Value *p, Match &m) {
    Op *div = defOf(p, OpKind::Div);
    if (!div || p->type().rank() < 2 || !isFloat(p->type().dtype()))
      return false;
    rank_ = p->type().rank();
    Value *e = div->operand(0), *summed = nullptr;
    if (!rowReduction(div->operand(1), OpKind::ReduceSum, summed, m) || summed != e)
      return false;
    Op *ex = defOf(e, OpKind::Exp);
    if (!ex)
      return false;
    Value *s = ex->operand(0);
    m.chain.insert(m.chain.end(), {div, ex});
    if (Op *sub = defOf(s, OpKind::Sub)) {
      Value *maxed = nullptr;
      if (rowReduction(sub->operand(1), OpKind::ReduceMax, maxed, m) && maxed == sub->operand(0)) {
        m.chain.push_back(sub);
        s = sub->operand(0);
      }
    }
    return logits(s, m);
  }

  /// Whether `c` is iota(axis r-2) >= iota(axis r-1) over the scores' shape, possibly a
  /// broadcast of that comparison over [Tq, Tk].
  bool causalCondition(Value *c) {
    int64_t r = c->type().rank();
    int64_t qAxis = r - 2, kAxis = r - 1;
    if (Op *bc = defOf(c, OpKind::Broadcast)) {
      const std::vector<int64_t> &dims = bc->dims();
      int64_t n = static_cast<int64_t>(dims.size());
      if (n < 2 || dims[n - 2] != rank_ - 2 || dims[n - 1] != rank_ - 1)
        return false;
      c = bc->operand(0);
      qAxis = n - 2;
      kAxis = n - 1;
    }
    Op *cmp = c->definingOp();
    if (!cmp || (cmp->kind() != OpKind::Ge && cmp->kind() != OpKind::Le))
      return false;
    Value *big = cmp->operand(0), *small = cmp->operand(1);
    if (cmp->kind() == OpKind::Le)
      std::swap(big, small);
    Op *qi = defOf(big, OpKind::Iota), *kj = defOf(small, OpKind::Iota);
    return qi && kj && qi->axis() == qAxis && kj->axis() == kAxis;
  }

  /// Whether `c` is the additive causal mask select(iota(r-2) >= iota(r-1), 0, -inf), possibly
  /// broadcast to the scores' trailing axes.
  bool causalAdditive(Value *c) {
    if (Op *bc = defOf(c, OpKind::Broadcast)) {
      const std::vector<int64_t> &dims = bc->dims();
      int64_t n = static_cast<int64_t>(dims.size());
      int64_t r = c->type().rank();
      if (n < 2 || dims[n - 2] != r - 2 || dims[n - 1] != r - 1)
        return false;
      c = bc->operand(0);
    }
    Op *sel = defOf(c, OpKind::Select);
    if (!sel || c->type().rank() < 2)
      return false;
    auto zero = splatOrBroadcast(sel->operand(1)), ninf = splatOrBroadcast(sel->operand(2));
    return zero && *zero == 0 && ninf && std::isinf(*ninf) && *ninf < 0 &&
           causalCondition(sel->operand(0));
  }

  /// An additive mask with its causal part taken out into m.causal: nullptr when it was all
  /// causal, the other term when it is (a broadcast of) C + mask or mask + C with that term of
  /// the scores' rank, else the mask as it is.
  Value *peelCausal(Value *mask, Match &m) {
    if (m.causal)
      return mask;
    if (causalAdditive(mask)) {
      m.causal = true;
      return nullptr;
    }
    Value *sum = mask;
    if (Op *bc = defOf(sum, OpKind::Broadcast)) {
      sum = bc->operand(0);
      for (size_t i = 0; i < bc->dims().size(); ++i)
        if (bc->dims()[i] != static_cast<int64_t>(i)) // size-1 axes grown, none moved
          return mask;
    }
    Op *add = defOf(sum, OpKind::Add);
    if (!add || sum->type().rank() != rank_)
      return mask;
    for (int side : {0, 1})
      if (causalAdditive(add->operand(static_cast<size_t>(side)))) {
        m.causal = true;
        return add->operand(static_cast<size_t>(1 - side));
      }
    return mask;
  }

  bool logits(Value *s, Match &m) {
    if (s->type().rank() != rank_)
      return false;
    if (Op *mm = defOf(s, OpKind::Matmul)) {
      m.q = mm->operand(0);
      Value *kt = mm->operand(1);
      std::vector<int64_t> swap(static_cast<size_t>(rank_));
      for (int64_t i = 0; i < rank_; ++i)
        swap[static_cast<size_t>(i)] = i;
      std::swap(swap[static_cast<size_t>(rank_ - 2)], swap[static_cast<size_t>(rank_ - 1)]);
      Op *tr = defOf(kt, OpKind::Transpose);
      if (tr && tr->perm() == swap) {
        m.k = tr->operand(0);
        m.chain.push_back(tr);
      } else {
        m.kt = kt;
      }
      m.chain.push_back(mm);
      return true;
    }
    Op *d = s->definingOp();
    if (!d)
      return false;
    switch (d->kind()) {
    case OpKind::Mul:
    case OpKind::Div:
      for (int side : {1, 0}) {
        if (side == 0 && d->kind() == OpKind::Div)
          break;
        auto c = splatOrBroadcast(d->operand(static_cast<size_t>(side)));
        if (!c || !std::isfinite(*c) || *c == 0)
          continue;
        m.scale *= d->kind() == OpKind::Div ? 1.0 / *c : *c;
        m.chain.push_back(d);
        return logits(d->operand(static_cast<size_t>(1 - side)), m);
      }
      return false;
    case OpKind::Add:
      // An additive mask: the side that is not the scores. Only one mask is kept.
      for (int side : {1, 0}) {
        Match trial = m;
        if (!m.mask && logits(d->operand(static_cast<size_t>(1 - side)), trial) && !trial.mask) {
          m = trial;
          m.mask = peelCausal(d->operand(static_cast<size_t>(side)), m);
          m.chain.push_back(d);
          return true;
        }
      }
      return false;
    case OpKind::Select: {
      auto ninf = splatOrBroadcast(d->operand(2));
      if (m.causal || !ninf || !std::isinf(*ninf) || *ninf > 0 || !causalCondition(d->operand(0)))
        return false;
      m.causal = true;
      m.chain.push_back(d);
      return logits(d->operand(1), m);
    }
    default:
      return false;
    }
  }
};

/// `mask` as the attention op's operand: a broadcast in increasing order becomes its source
/// reshaped to rank r with 1s on the broadcast axes; anything else is used as it is.
Expected<Value *> maskOperand(ir::OpBuilder &b, Value *mask, const Loc &loc) {
  Op *bc = defOf(mask, OpKind::Broadcast);
  if (!bc)
    return mask;
  const std::vector<int64_t> &dims = bc->dims();
  for (size_t i = 1; i < dims.size(); ++i)
    if (dims[i] <= dims[i - 1])
      return mask;
  Value *src = bc->operand(0);
  std::vector<ir::Dim> shape(static_cast<size_t>(mask->type().rank()), ir::Dim(1));
  for (size_t i = 0; i < dims.size(); ++i)
    shape[static_cast<size_t>(dims[i])] = src->type().dim(static_cast<int64_t>(i));
  ir::Type t(shape, src->type().dtype());
  if (t == src->type())
    return src;
  return b.create1(OpKind::Reshape, {src}, {}, {t}, loc);
}

Expected<bool> fuseFunction(ir::Function &f) {
  std::vector<Op *> matmuls;
  ir::walk(f.body(), [&](Op &op) {
    if (op.kind() == OpKind::Matmul)
      matmuls.push_back(&op);
  });
  ir::Uses uses(f.body());
  std::unordered_set<const Op *> replaced;
  for (Op *final : matmuls) {
    auto m = Matcher(uses).match(*final);
    if (!m)
      continue;
    Loc loc = final->loc();
    ir::OpBuilder b(*final->parentBlock());
    b.setInsertionPointBefore(final);
    Value *k = m->k;
    if (!k) { // q k^T with k^T not a transpose: take k = transpose(k^T)
      int64_t r = m->kt->type().rank();
      std::vector<int64_t> perm;
      for (int64_t i = 0; i < r; ++i)
        perm.push_back(i);
      std::swap(perm[static_cast<size_t>(r - 2)], perm[static_cast<size_t>(r - 1)]);
      auto t = b.create1(OpKind::Transpose, {m->kt}, {{"perm", perm}}, {}, loc);
      WEFT_TRY(t.status());
      k = *t;
    }
    std::vector<Value *> xs = {m->q, k, m->v};
    if (m->mask) {
      auto mask = maskOperand(b, m->mask, loc);
      WEFT_TRY(mask.status());
      xs.push_back(*mask);
    }
    ir::Attrs attrs = {{"scale", m->scale}};
    if (m->causal)
      attrs["causal"] = int64_t{1};
    auto att = b.create1(OpKind::Attention, xs, attrs, {}, loc);
    WEFT_TRY(att.status());
    uses.replaceAllUsesWith(final->result(), *att);
    if (!final->result()->name().empty() && (*att)->name().empty())
      (*att)->setName(final->result()->name());
    replaced.insert(m->chain.begin(), m->chain.end());
  }
  if (replaced.empty())
    return false;
  // What fed only the replaced ops (scale constants, iotas, broadcast masks) goes with them.
  std::vector<const Op *> work(replaced.begin(), replaced.end());
  while (!work.empty()) {
    const Op *op = work.back();
    work.pop_back();
    for (Value *x : op->operands())
      if (Op *d = x->definingOp(); d && replaced.insert(d).second)
        work.push_back(d);
  }
  transforms::eraseDeadOps(
      f.body(), [&](const Op &op) { return replaced.count(&op) > 0 && transforms::isPureOp(op); });
  return true;
}

class FuseAttentionPass final : public FunctionPass {
public:
  std::string_view name() const override { return "fuse-attention"; }
  Expected<bool> runOnFunction(ir::Function &f) override { return fuseFunction(f); }
};

} // namespace

std::unique_ptr<Pass> createFuseAttentionPass() { return std::make_unique<FuseAttentionPass>(); }

} // namespace weft::passes
