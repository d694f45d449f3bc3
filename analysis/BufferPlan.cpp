//===- analysis/BufferPlan.cpp - slots, live ranges and in-place writes ---===//
#include "analysis/BufferPlan.h"

#include "ir/Fusion.h"
#include "ir/Infer.h"

#include <algorithm>

namespace weft::analysis {
namespace {

/// Bytes of a buffer of type `t` as a formula of the symbols.
ir::Dim byteSize(const ir::Type &t) { return t.numElements() * ir::Dim(dtypeBytes(t.dtype())); }

bool isReduction(const ir::Op *op) {
  return op && ir::opCategory(op->kind()) == ir::OpCategory::Reduce;
}

/// The operands of fusion `op` its kernel reads only at the element it writes: full-domain
/// operands that no broadcast in the body reads. None when the body is not a kernel.
std::vector<const ir::Value *> sameIndexOperands(const ir::Op &op) {
  std::vector<const ir::Value *> out;
  auto form = ir::fusionForm(op.region());
  if (!form)
    return out;
  const ir::Block &body = op.region();
  for (size_t i = 0; i < op.numOperands(); ++i) {
    const ir::Value *arg = body.arg(i);
    bool direct = op.operand(i)->type().dims() == form->domain;
    for (const auto &inner : body.ops())
      for (const ir::Value *v : inner->operands())
        direct = direct && !(v == arg && inner->kind() == ir::OpKind::Broadcast);
    if (direct)
      out.push_back(op.operand(i));
  }
  return out;
}

} // namespace

BufferPlan::BufferPlan(const ir::Function &f, const ScratchModel &scratch)
    : liveness_(f), scratch_(scratch) {
  if (const ir::Op *ret = f.returnOp())
    returned_.insert(ret->operands().begin(), ret->operands().end());
  for (size_t i = 0; i < f.numParams(); ++i) {
    paramSlots_.push_back(newSlot(f.param(i)->type(), nullptr, SlotRole::Param, f.param(i)));
    assign(f.param(i), paramSlots_.back());
  }
  const ir::Op *ret = f.returnOp();
  for (const ir::OutputAlias &a : f.aliases())
    if (ret && a.result < ret->numOperands() && a.param < f.numParams())
      aliasParam_[ret->operand(a.result)] = f.param(a.param);
  planBlock(f.body());
  if (ret)
    for (const ir::Value *v : ret->operands()) {
      int s = slotOf(v);
      WEFT_CHECK(s >= 0, "buffer plan: a returned value has no slot");
      resultSlots_.push_back(s);
    }
  // A declared update's result is its parameter's buffer; copied there unless computed there.
  for (const ir::OutputAlias &a : f.aliases()) {
    if (!ret || a.result >= resultSlots_.size() || a.param >= paramSlots_.size())
      continue;
    int from = resultSlots_[a.result], to = paramSlots_[a.param];
    if (from != to)
      aliasCopies_.push_back({from, to});
    resultSlots_[a.result] = to;
  }
  provided_.assign(slots_.size(), false);
  for (int s : paramSlots_)
    provided_[s] = true;
  for (int s : resultSlots_)
    provided_[s] = true;
  // A slot lives on to the last use of every value it holds.
  for (const auto &[v, s] : slotOf_)
    slots_[s].live.last = std::max(slots_[s].live.last, liveness_.lastUse(v));
}

void BufferPlan::planBlock(const ir::Block &block) {
  for (const auto &op : block.ops())
    if (!ir::isTerminator(op->kind()))
      planOp(*op);
}

void BufferPlan::planOp(const ir::Op &op) {
  ir::OpKind k = op.kind();
  std::vector<const ir::Value *> candidates;
  if (ir::isElementwise(k))
    candidates.assign(op.operands().begin(), op.operands().end());
  else if (k == ir::OpKind::Fusion)
    candidates = sameIndexOperands(op);
  const ir::Op *yield = k == ir::OpKind::Fusion ? op.region().back() : nullptr;
  for (size_t i = 0; i < op.numResults(); ++i) {
    const ir::Value *r = op.result(i);
    bool element = !yield || !isReduction(yield->operand(i)->definingOp());
    auto param = aliasParam_.find(r);
    if (param != aliasParam_.end() && writableInto(r, param->second, element, candidates)) {
      assign(r, slotOf(param->second));
      continue;
    }
    const ir::Value *over = element ? reusable(op, r, candidates) : nullptr;
    if (over) {
      inPlace_[r] = over;
      assign(r, slotOf(over));
    } else {
      assign(r, newSlot(r->type(), &op, SlotRole::Value, r));
    }
  }
  if (k == ir::OpKind::Scan || k == ir::OpKind::While) {
    // The carries live in the loop's result slots; a while's result 0 is its `finished` flags.
    const ir::Block &body = op.region();
    size_t first = k == ir::OpKind::While ? 1 : 0;
    size_t carries = 0;
    if (k == ir::OpKind::While)
      carries = op.numOperands() - 1;
    else if (auto g = ir::scanOperands(op.numOperands(), op.attrs()))
      carries = g->numCarry;
    for (size_t i = 0; i < carries && i < body.numArgs(); ++i)
      assign(body.arg(i), slotOf(op.result(first + i)));
    planBlock(body);
  }
  if (scratch_)
    for (const ir::Type &t : scratch_(op))
      scratchOf_[&op].push_back(newSlot(t, &op, SlotRole::Scratch, nullptr));
}

int BufferPlan::newSlot(const ir::Type &t, const ir::Op *maker, SlotRole role, const ir::Value *v) {
  const LiveRange *span = maker ? liveness_.span(*maker) : nullptr;
  LiveRange live = span ? *span : LiveRange{0, std::max(0, liveness_.end() - 1)};
  slots_.push_back(BufferSlot{t, live, role, v});
  return static_cast<int>(slots_.size()) - 1;
}

void BufferPlan::assign(const ir::Value *v, int slot) {
  slotOf_[v] = slot;
  holder_[slot] = v;
}

bool BufferPlan::writableInto(const ir::Value *v, const ir::Value *param, bool element,
                              const std::vector<const ir::Value *> &sameIndex) const {
  // Only a value of the function body made by a leaf op: a loop writes its result slots before
  // its body reads the parameter. Not a value returned twice, nor into a parameter also
  // returned as itself: the other result would see the update.
  const ir::Op *def = v->definingOp();
  if (!def || ir::isLoop(def->kind()) || def->parentBlock()->parentOp() || returned_.count(param))
    return false;
  const ir::Op *ret = def->parentBlock()->back();
  if (std::count(ret->operands().begin(), ret->operands().end(), v) != 1)
    return false;
  const LiveRange *at = liveness_.span(*def);
  int32_t last = liveness_.lastUse(param);
  if (!at || last < at->first)
    return at != nullptr;
  // Read by `def` itself only at the element it writes, as an in-place write is.
  return element && last == at->first &&
         std::find(sameIndex.begin(), sameIndex.end(), param) != sameIndex.end();
}

const ir::Value *BufferPlan::reusable(const ir::Op &op, const ir::Value *result,
                                      const std::vector<const ir::Value *> &candidates) const {
  const LiveRange *at = liveness_.span(op);
  // A returned value goes to the caller's array, so its slot must be its own.
  if (!at || at->first != at->last || returned_.count(result))
    return nullptr;
  for (const ir::Value *x : candidates) {
    // Only an op result that dies here and owns its slot: not a parameter, a loop's carry or
    // emit (a scan/while result), a body argument or a step of a sequence.
    const ir::Op *def = x->definingOp();
    if (!def || ir::isLoop(def->kind()) || returned_.count(x) || liveness_.lastUse(x) != at->last)
      continue;
    int s = slotOf(x);
    if (s < 0 || holder_.at(s) != x)
      continue;
    if (byteSize(slots_[s].type) == byteSize(result->type()))
      return x;
  }
  return nullptr;
}

int BufferPlan::slotOf(const ir::Value *v) const {
  auto it = slotOf_.find(v);
  return it == slotOf_.end() ? -1 : it->second;
}

const ir::Value *BufferPlan::inPlaceOver(const ir::Value *result) const {
  auto it = inPlace_.find(result);
  return it == inPlace_.end() ? nullptr : it->second;
}

const std::vector<int> &BufferPlan::scratchOf(const ir::Op &op) const {
  static const std::vector<int> kNone;
  auto it = scratchOf_.find(&op);
  return it == scratchOf_.end() ? kNone : it->second;
}

bool BufferPlan::callerProvided(int s) const { return provided_.at(static_cast<size_t>(s)); }

} // namespace weft::analysis
