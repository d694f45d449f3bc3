//===- passes/CellMatch.cpp - matching recurrent cells in scan bodies -----===//
#include "passes/CellMatch.h"

#include "ir/Uses.h"
#include "passes/Rewrite.h"

namespace weft::passes::cell {

using ir::OpKind;
using ir::Value;

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

ir::Op *BodyMatcher::bodyOp(Value *v, OpKind kind) {
  if (v->isBlockArg() || v->definingOp()->parentBlock() != &body_ ||
      v->definingOp()->kind() != kind)
    return nullptr;
  matched_.insert(v->definingOp());
  return v->definingOp();
}

std::optional<std::pair<Value *, Value *>> BodyMatcher::operandsOf(Value *v, OpKind kind) {
  ir::Op *op = bodyOp(v, kind);
  if (!op)
    return std::nullopt;
  return std::pair{op->operand(0), op->operand(1)};
}

std::optional<Value *> BodyMatcher::mulWith(Value *v, Value *by) {
  auto ops = operandsOf(v, OpKind::Mul);
  if (!ops || (ops->first == by) == (ops->second == by))
    return std::nullopt;
  return ops->first == by ? ops->second : ops->first;
}

Value *BodyMatcher::unaryOperand(Value *v, OpKind kind) {
  ir::Op *op = bodyOp(v, kind);
  return op ? op->operand(0) : nullptr;
}

std::optional<std::pair<Value *, int64_t>> BodyMatcher::activation(Value *v, OpKind kind) {
  if (!isActivation(v, kind))
    return std::nullopt;
  if (ir::Op *slice = bodyOp(v, OpKind::Slice))
    return std::pair{unaryOperand(slice->operand(0), kind), slice->start()};
  return std::pair{unaryOperand(v, kind), int64_t{0}};
}

bool BodyMatcher::isActivation(Value *v, OpKind kind) const {
  auto inBody = [&](Value *u, OpKind k) {
    return !u->isBlockArg() && u->definingOp()->parentBlock() == &body_ &&
           u->definingOp()->kind() == k;
  };
  if (inBody(v, OpKind::Slice) && v->definingOp()->axis() == 1)
    v = v->definingOp()->operand(0);
  return inBody(v, kind);
}

bool BodyMatcher::isOne(Value *v) {
  if (v->isBlockArg())
    return false;
  ir::Op *op = v->definingOp();
  if (op->kind() == OpKind::Broadcast)
    return isOne(op->operand(0)) && (outside(v) || bodyOp(v, OpKind::Broadcast));
  if (splatValue(v) != 1.0)
    return false;
  if (!outside(v))
    bodyOp(v, OpKind::Constant);
  return true;
}

bool BodyMatcher::terms(Value *v, int64_t col, std::vector<Term> &out) {
  if (v->isBlockArg())
    return false;
  if (outside(v)) { // a bias broadcast that licm moved out of the body
    ir::Op *op = v->definingOp();
    if (op->kind() != OpKind::Broadcast || op->operand(0)->type().rank() != 1 ||
        op->dims() != std::vector<int64_t>{1})
      return false;
    out.push_back({Source::Bias, op->operand(0), 0, 0, col, current_});
    return true;
  }
  if (v->definingOp()->parentBlock() != &body_)
    return false;
  ir::Op *op = v->definingOp();
  matched_.insert(op);
  switch (op->kind()) {
  case OpKind::Slice:
    return op->axis() == 1 && terms(op->operand(0), col + op->start(), out);
  case OpKind::Add:
    return terms(op->operand(0), col, out) && terms(op->operand(1), col, out);
  case OpKind::Broadcast: {
    Value *bias = op->operand(0);
    if (bias->type().rank() != 1 || op->dims() != std::vector<int64_t>{1} || !outside(bias))
      return false;
    out.push_back({Source::Bias, bias, 0, 0, col, current_});
    return true;
  }
  case OpKind::Matmul:
    return matmulTerms(*op, col, out);
  case OpKind::Mul: { // r * (sum of terms): a GRU's candidate, reset after the GEMM
    Value *other = nullptr;
    if (!resetAllowed_ || current_ != Reset::None || !resetFactor(v, other))
      return false;
    current_ = Reset::After;
    bool ok = terms(other, col, out);
    current_ = Reset::None;
    return ok;
  }
  default:
    return false;
  }
}

bool BodyMatcher::matmulTerms(ir::Op &mm, int64_t col, std::vector<Term> &out) {
  Value *a = mm.operand(0), *w = mm.operand(1);
  if (w->type().rank() != 2 || !outside(w))
    return false;
  auto push = [&](Value *step, int64_t row) {
    auto src = stepSource(step);
    if (!src)
      return false;
    Reset reset = src->second == Reset::Before ? Reset::Before : current_;
    out.push_back({src->first, w, row, rowsOf(step), col, reset});
    return true;
  };
  if (stepSource(a))
    return push(a, 0);
  ir::Op *cat = bodyOp(a, OpKind::Concat);
  if (!cat || cat->axis() != 1)
    return false;
  int64_t row = 0;
  for (Value *part : cat->operands()) {
    if (!push(part, row))
      return false;
    row += rowsOf(part);
  }
  return true;
}

std::optional<std::pair<Source, Reset>> BodyMatcher::stepSource(Value *v) {
  if (v == x_)
    return std::pair{Source::Input, Reset::None};
  if (v == h_)
    return std::pair{Source::Hidden, Reset::None};
  Value *other = nullptr;
  if (resetAllowed_ && current_ == Reset::None && resetFactor(v, other) && other == h_)
    return std::pair{Source::Hidden, Reset::Before};
  return std::nullopt;
}

Value *BodyMatcher::resetFactor(Value *v, Value *&other) {
  if (v->isBlockArg() || v->definingOp()->parentBlock() != &body_ ||
      v->definingOp()->kind() != OpKind::Mul)
    return nullptr;
  ir::Op *mul = v->definingOp();
  auto isSigmoid = [&](Value *r) { return isActivation(r, OpKind::Sigmoid); };
  for (size_t i = 0; i < 2; ++i) {
    Value *r = mul->operand(i);
    if (reset_ ? r != reset_ : !isSigmoid(r))
      continue;
    other = mul->operand(1 - i);
    matched_.insert(mul);
    reset_ = r;
    return r;
  }
  return nullptr;
}

int64_t BodyMatcher::rowsOf(Value *v) {
  const ir::Dim &d = v->type().dim(1);
  return d.isStatic() ? d.size() : -1; // -1 is never equal to a row count
}

bool BodyMatcher::oneEach(const std::vector<Term> &ts) {
  int inputs = 0, hiddens = 0;
  for (const Term &t : ts) {
    inputs += t.source == Source::Input;
    hiddens += t.source == Source::Hidden;
    if (t.source != Source::Bias && t.rows < 0)
      return false;
  }
  return inputs == 1 && hiddens == 1;
}

size_t BodyMatcher::countOf(const std::vector<Term> &ts, Source s) {
  size_t n = 0;
  for (const Term &t : ts)
    n += t.source == s;
  return n;
}

std::vector<Term> pick(std::span<const std::vector<Term>> gates, Source source, size_t nth) {
  std::vector<Term> out(gates.size());
  for (size_t k = 0; k < gates.size(); ++k) {
    size_t seen = 0;
    for (const Term &t : gates[k])
      if (t.source == source && seen++ == nth)
        out[k] = t;
  }
  return out;
}

OperandBuilder::OperandBuilder(ir::Op &scan, int64_t hidden)
    : b_(*scan.parentBlock()), hidden_(hidden) {
  b_.setInsertionPointBefore(&scan);
  loc_ = scan.loc();
}

Expected<Value *> OperandBuilder::gather(std::span<const Term> piece) {
  const int64_t numGates = static_cast<int64_t>(piece.size());
  Value *mat = piece[0].mat;
  bool matrix = mat->type().rank() == 2;
  bool sameRows = true, inOrder = true;
  for (int64_t k = 0; k < numGates; ++k) {
    sameRows &= piece[k].mat == mat && piece[k].row == piece[0].row;
    inOrder &= piece[k].mat == mat && piece[k].col == k * hidden_;
  }
  int64_t axis = matrix ? 1 : 0;
  auto full = [&](Value *v) { return v->type().dim(axis) == ir::Dim(numGates * hidden_); };
  if (matrix && sameRows && mat->type().dim(0) != ir::Dim(piece[0].rows)) {
    auto rows = slice(mat, 0, piece[0].row, piece[0].row + piece[0].rows);
    WEFT_TRY(rows.status());
    mat = *rows;
  }
  if (sameRows && inOrder && full(mat))
    return mat;
  // Runs of pieces that are adjacent columns of one matrix's rows become one block each.
  std::vector<Value *> blocks;
  for (size_t k = 0; k < piece.size();) {
    const Term &t = piece[k];
    size_t end = k + 1;
    while (end < piece.size() && piece[end].mat == t.mat && piece[end].row == t.row &&
           piece[end].rows == t.rows &&
           piece[end].col == t.col + static_cast<int64_t>(end - k) * hidden_)
      ++end;
    const int64_t width = static_cast<int64_t>(end - k) * hidden_;
    Value *m = t.mat;
    if (matrix && m->type().dim(0) != ir::Dim(t.rows)) {
      auto rows = slice(m, 0, t.row, t.row + t.rows);
      WEFT_TRY(rows.status());
      m = *rows;
    }
    if (t.col != 0 || m->type().dim(axis) != ir::Dim(width)) { // not already the block
      auto cols = slice(m, axis, t.col, t.col + width);
      WEFT_TRY(cols.status());
      m = *cols;
    }
    blocks.push_back(m);
    k = end;
  }
  if (blocks.size() == 1)
    return blocks[0];
  return b_.create1(OpKind::Concat, blocks, {{"axis", axis}}, {}, loc_);
}

Expected<Value *> OperandBuilder::gatherBias(std::span<const std::vector<Term>> perGate,
                                             DType dtype) {
  const size_t n = perGate[0].size();
  bool sameCount = true;
  for (const auto &g : perGate)
    sameCount &= g.size() == n;
  Value *sum = nullptr;
  auto accumulate = [&](Value *&acc, Value *v) -> Status {
    if (!acc) {
      acc = v;
      return {};
    }
    auto s = add(acc, v);
    WEFT_TRY(s.status());
    acc = *s;
    return {};
  };
  if (sameCount) {
    for (size_t k = 0; k < n; ++k) {
      auto part = gather(pick(perGate, Source::Bias, k));
      WEFT_TRY(part.status());
      WEFT_TRY(accumulate(sum, *part));
    }
    if (!sum)
      sum = b_.splat(ir::Type({ir::Dim(static_cast<int64_t>(perGate.size()) * hidden_)}, dtype),
                     0.0, loc_);
    return sum;
  }
  // Gates with different numbers of biases (a GRU's candidate has fewer): each gate's sum.
  std::vector<Value *> blocks;
  for (const auto &g : perGate) {
    Value *block = nullptr;
    for (const Term &t : g) {
      auto part = gather(std::span<const Term>(&t, 1));
      WEFT_TRY(part.status());
      WEFT_TRY(accumulate(block, *part));
    }
    blocks.push_back(block ? block : b_.splat(ir::Type({ir::Dim(hidden_)}, dtype), 0.0, loc_));
  }
  return b_.create1(OpKind::Concat, blocks, {{"axis", int64_t{0}}}, {}, loc_);
}

Expected<Value *> OperandBuilder::slice(Value *v, int64_t axis, int64_t start, int64_t limit) {
  return b_.create1(OpKind::Slice, {v}, {{"axis", axis}, {"start", start}, {"limit", limit}}, {},
                    loc_);
}

Expected<Value *> OperandBuilder::add(Value *a, Value *b) {
  return b_.create1(OpKind::Add, {a, b}, {}, {}, loc_);
}

void replaceScan(ir::Op &scan, ir::Op &fused, std::span<const std::pair<size_t, size_t>> results,
                 std::span<const std::pair<Value *, const char *>> names) {
  // Name what the gathering made (the printer makes names unique).
  for (auto [v, name] : names)
    if (v->name().empty())
      v->setName(name);
  ir::Uses uses(*scan.parentBlock());
  for (auto [from, to] : results) {
    fused.result(to)->setName(scan.result(from)->name());
    uses.replaceAllUsesWith(scan.result(from), fused.result(to));
  }
  uses.erase(scan);
}

} // namespace weft::passes::cell
