//===- passes/AttentionMatch.cpp - a decoder step's attention, matched ----===//
#include "passes/AttentionMatch.h"

namespace weft::passes::attention {

using ir::Op;
using ir::OpKind;
using ir::Value;

namespace {

Value *reducedRows(Value *v, OpKind k, int64_t axis, std::vector<Op *> &chain) {
  Value *u = broadcastSource(v, axis, chain);
  Op *red = defOf(u, k);
  if (!red || red->axes() != std::vector<int64_t>{axis} || u->type().rank() != 1)
    return nullptr;
  chain.push_back(red);
  return red->operand(0);
}

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

} // namespace

Op *defOf(Value *v, OpKind k) {
  Op *d = v ? v->definingOp() : nullptr;
  return d && d->kind() == k ? d : nullptr;
}

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

bool context(Op &final, const ir::Uses &uses, Match &m, const ScoreMatcher &scores) {
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

bool definedInside(const Value *v, const Op *loop) {
  const ir::Block *block = v->isBlockArg() ? v->ownerBlock() : v->definingOp()->parentBlock();
  for (const Op *p = block ? block->parentOp() : nullptr; p; p = p->parentOp())
    if (p == loop)
      return true;
  return false;
}

const Op *enclosingLoop(const Op &op) {
  for (const Op *p = op.parentOp(); p; p = p->parentOp())
    if (p->kind() == OpKind::Scan || p->kind() == OpKind::While)
      return p;
  return nullptr;
}

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

} // namespace weft::passes::attention
