//===- passes/FuseLstm.cpp - a scan computing an LSTM cell -> lstm_sequence -===//
//
// Matches the computation, not the code that wrote it. A scan with carries h, c (in either
// order), one sequence xs [T, B, I] and at most the emit h2 qualifies when its body is
//
//   c2 = sigmoid(z_f) * c + sigmoid(z_i) * tanh(z_g)       (any operand order)
//   h2 = sigmoid(z_o) * tanh(c2)
//   yield carry(h2, c2) emit(h2)
//
// and every pre-activation z_k [B, H] is a sum of affine terms read through column slices:
//
//   matmul(x, W)   matmul(h, U)   matmul(concat(x, h), W)   broadcast(bias) {dims = [1]}
//
// with W, U, bias defined outside the body (gate GEMMs separate or concatenated, gates in any
// column order, bias before or after slicing). Each gate needs exactly one x term and one h
// term. The weights of the fused op are gathered before the loop, in the gate order i, f, g, o:
// a matrix whose column blocks are already in that order is used as it is, otherwise its
// blocks are sliced and concatenated once.
//
// Refused: any other op on the path (a peephole LSTM reads c in its gates), an extra emit or
// a carry yielded in another role (a state used outside the cell), several sequences.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Infer.h"
#include "ir/Uses.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include <array>
#include <optional>
#include <set>

namespace weft::passes {
namespace {

using ir::OpKind;
using ir::Value;

enum class Source { Input, Hidden, Bias };

/// One affine term of a pre-activation window: the columns [col, col + H) of `mat` (rows
/// [row, row + rows) of a matrix; a bias is rank 1) multiplied by the input or hidden step.
struct Term {
  Source source = Source::Bias;
  Value *mat = nullptr;
  int64_t row = 0, rows = 0, col = 0;
};

/// Whether `v` is defined in `body` or in a region nested in it.
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

class CellMatcher {
public:
  CellMatcher(ir::Op &scan, Value *x, Value *h, Value *c)
      : body_(scan.region()), x_(x), h_(h), c_(c) {}

  /// The four gates' terms, i f g o, when `h2` and `c2` compute the cell; nullopt otherwise.
  std::optional<std::array<std::vector<Term>, 4>> match(Value *h2, Value *c2) {
    // h2 = sigmoid(z_o) * tanh(c2)
    auto h2ops = operandsOf(h2, OpKind::Mul);
    if (!h2ops)
      return std::nullopt;
    auto [a, b] = *h2ops;
    if (!isUnary(b, OpKind::Tanh, c2))
      std::swap(a, b);
    if (!isUnary(b, OpKind::Tanh, c2))
      return std::nullopt;
    Value *zo = unaryOperand(a, OpKind::Sigmoid);
    // c2 = sigmoid(z_f) * c + sigmoid(z_i) * tanh(z_g)
    auto c2ops = operandsOf(c2, OpKind::Add);
    if (!zo || !c2ops)
      return std::nullopt;
    auto [p, q] = *c2ops;
    if (!mulWith(p, c_))
      std::swap(p, q);
    auto fc = mulWith(p, c_);
    auto ig = operandsOf(q, OpKind::Mul);
    if (!fc || !ig)
      return std::nullopt;
    Value *zf = unaryOperand(*fc, OpKind::Sigmoid);
    auto [u, v] = *ig;
    if (!unaryOperand(u, OpKind::Sigmoid))
      std::swap(u, v);
    Value *zi = unaryOperand(u, OpKind::Sigmoid), *zg = unaryOperand(v, OpKind::Tanh);
    if (!zf || !zi || !zg)
      return std::nullopt;
    std::array<std::vector<Term>, 4> gates;
    Value *z[4] = {zi, zf, zg, zo};
    for (int k = 0; k < 4; ++k) {
      if (!terms(z[k], 0, gates[k]) || !oneEach(gates[k]))
        return std::nullopt;
    }
    return gates;
  }

  /// The body ops the match went through (all of them must be, or the body does more).
  size_t numMatched() const { return matched_.size(); }

private:
  /// The operands of `v` when an op of `kind` defined in the body makes it.
  std::optional<std::pair<Value *, Value *>> operandsOf(Value *v, OpKind kind) {
    ir::Op *op = bodyOp(v, kind);
    if (!op)
      return std::nullopt;
    return std::pair{op->operand(0), op->operand(1)};
  }

  /// The other operand of a mul of `v` by `by`.
  std::optional<Value *> mulWith(Value *v, Value *by) {
    auto ops = operandsOf(v, OpKind::Mul);
    if (!ops || (ops->first == by) == (ops->second == by))
      return std::nullopt;
    return ops->first == by ? ops->second : ops->first;
  }

  Value *unaryOperand(Value *v, OpKind kind) {
    ir::Op *op = bodyOp(v, kind);
    return op ? op->operand(0) : nullptr;
  }

  bool isUnary(Value *v, OpKind kind, Value *of) { return unaryOperand(v, kind) == of; }

  /// The op of `kind` in the body that defines `v`, recorded as matched.
  ir::Op *bodyOp(Value *v, OpKind kind) {
    if (v->isBlockArg() || v->definingOp()->parentBlock() != &body_ ||
        v->definingOp()->kind() != kind)
      return nullptr;
    matched_.insert(v->definingOp());
    return v->definingOp();
  }

  bool outside(Value *v) const { return !definedUnder(v, body_); }

  /// Appends the terms of the columns [col, col + H) of `v` ([B, N]); false when `v` is not a
  /// sum of affine terms.
  bool terms(Value *v, int64_t col, std::vector<Term> &out) {
    if (!v->isBlockArg() && outside(v) && v->definingOp()->kind() == OpKind::Broadcast)
      return biasTerm(*v->definingOp(), col, out); // licm hoisted the bias's broadcast
    if (v->isBlockArg() || v->definingOp()->parentBlock() != &body_)
      return false;
    ir::Op *op = v->definingOp();
    matched_.insert(op);
    switch (op->kind()) {
    case OpKind::Slice:
      return op->axis() == 1 && terms(op->operand(0), col + op->start(), out);
    case OpKind::Add:
      return terms(op->operand(0), col, out) && terms(op->operand(1), col, out);
    case OpKind::Broadcast:
      return biasTerm(*op, col, out);
    case OpKind::Matmul:
      return matmulTerms(*op, col, out);
    default:
      return false;
    }
  }

  /// `bc` broadcasts a bias [N] defined outside the body along the rows.
  bool biasTerm(ir::Op &bc, int64_t col, std::vector<Term> &out) {
    Value *bias = bc.operand(0);
    if (bias->type().rank() != 1 || bc.dims() != std::vector<int64_t>{1} || !outside(bias))
      return false;
    out.push_back({Source::Bias, bias, 0, 0, col});
    return true;
  }

  bool matmulTerms(ir::Op &mm, int64_t col, std::vector<Term> &out) {
    Value *a = mm.operand(0), *w = mm.operand(1);
    if (w->type().rank() != 2 || !outside(w))
      return false;
    if (a == x_ || a == h_) {
      out.push_back({a == x_ ? Source::Input : Source::Hidden, w, 0, rowsOf(a), col});
      return true;
    }
    ir::Op *cat = bodyOp(a, OpKind::Concat);
    if (!cat || cat->axis() != 1)
      return false;
    int64_t row = 0;
    for (Value *part : cat->operands()) {
      if (part != x_ && part != h_)
        return false;
      out.push_back({part == x_ ? Source::Input : Source::Hidden, w, row, rowsOf(part), col});
      row += rowsOf(part);
    }
    return true;
  }

  /// The static width of a [B, n] step value; -1 when symbolic (never equal to a row count).
  static int64_t rowsOf(Value *v) {
    const ir::Dim &d = v->type().dim(1);
    return d.isStatic() ? d.size() : -1;
  }

  /// Exactly one input and one hidden term, each with a static row range.
  static bool oneEach(const std::vector<Term> &ts) {
    int inputs = 0, hiddens = 0;
    for (const Term &t : ts) {
      inputs += t.source == Source::Input;
      hiddens += t.source == Source::Hidden;
      if (t.source != Source::Bias && t.rows < 0)
        return false;
    }
    return inputs == 1 && hiddens == 1;
  }

  ir::Block &body_;
  Value *x_, *h_, *c_;
  std::set<ir::Op *> matched_;
};

/// Builds the fused operands before `scan`.
class OperandBuilder {
public:
  OperandBuilder(ir::Op &scan, int64_t hidden) : b_(*scan.parentBlock()), hidden_(hidden) {
    b_.setInsertionPointBefore(&scan);
    loc_ = scan.loc();
  }

  /// The [rows, 4H] (or [4H]) operand made of the piece of each gate, in order i f g o.
  Expected<Value *> gather(const std::array<Term, 4> &piece) {
    Value *mat = piece[0].mat;
    bool matrix = mat->type().rank() == 2;
    bool sameRows = true, inOrder = true;
    for (int k = 0; k < 4; ++k) {
      sameRows &= piece[k].mat == mat && piece[k].row == piece[0].row;
      inOrder &= piece[k].mat == mat && piece[k].col == k * hidden_;
    }
    int axis = matrix ? 1 : 0;
    auto full = [&](Value *v) { return v->type().dim(axis) == ir::Dim(4 * hidden_); };
    if (matrix && sameRows && mat->type().dim(0) != ir::Dim(piece[0].rows)) {
      auto rows = slice(mat, 0, piece[0].row, piece[0].row + piece[0].rows);
      WEFT_TRY(rows.status());
      mat = *rows;
    }
    if (sameRows && inOrder && full(mat))
      return mat;
    std::vector<Value *> blocks;
    for (const Term &t : piece) {
      Value *m = t.mat;
      if (matrix && m->type().dim(0) != ir::Dim(t.rows)) {
        auto rows = slice(m, 0, t.row, t.row + t.rows);
        WEFT_TRY(rows.status());
        m = *rows;
      }
      if (t.col != 0 || m->type().dim(axis) != ir::Dim(hidden_)) { // not already the block
        auto cols = slice(m, axis, t.col, t.col + hidden_);
        WEFT_TRY(cols.status());
        m = *cols;
      }
      blocks.push_back(m);
    }
    return b_.create1(OpKind::Concat, blocks, {{"axis", int64_t{axis}}}, {}, loc_);
  }

  Expected<Value *> add(Value *a, Value *b) {
    return b_.create1(OpKind::Add, {a, b}, {}, {}, loc_);
  }
  Value *zeros(const ir::Type &t) { return b_.splat(t, 0.0, loc_); }
  ir::OpBuilder &builder() { return b_; }

private:
  Expected<Value *> slice(Value *v, int64_t axis, int64_t start, int64_t limit) {
    return b_.create1(OpKind::Slice, {v}, {{"axis", axis}, {"start", start}, {"limit", limit}}, {},
                      loc_);
  }

  ir::OpBuilder b_;
  int64_t hidden_;
  Loc loc_;
};

/// The terms of each gate from `source`, in gate order; the k-th of each for biases.
std::array<Term, 4> pick(const std::array<std::vector<Term>, 4> &gates, Source source,
                         size_t nth = 0) {
  std::array<Term, 4> out;
  for (int k = 0; k < 4; ++k) {
    size_t seen = 0;
    for (const Term &t : gates[k])
      if (t.source == source && seen++ == nth)
        out[k] = t;
  }
  return out;
}

size_t countOf(const std::vector<Term> &ts, Source s) {
  size_t n = 0;
  for (const Term &t : ts)
    n += t.source == s;
  return n;
}

Expected<bool> fuse(ir::Op &scan) {
  auto g = ir::scanOperands(scan.numOperands(), scan.attrs());
  WEFT_TRY(g.status());
  ir::Block &body = scan.region();
  if (g->numCarry != 2 || g->numSeq != 1 || scan.numResults() > 3)
    return false;
  Value *xs = scan.operand(2);
  const ir::Type &st = xs->type(), &c0t = scan.operand(0)->type();
  if (st.rank() != 3 || !ir::isFloat(st.dtype()) || c0t.rank() != 2 ||
      scan.operand(1)->type() != c0t || !c0t.dim(1).isStatic() || c0t.dtype() != st.dtype())
    return false;
  int64_t hidden = c0t.dim(1).size();
  ir::Op *yield = body.back();
  // Which carry is h: the one whose new value is also the emit, or else the one the other's
  // new value does not feed; try both.
  for (size_t hIdx = 0; hIdx < 2; ++hIdx) {
    size_t cIdx = 1 - hIdx;
    Value *h2 = yield->operand(hIdx), *c2 = yield->operand(cIdx);
    if (yield->numOperands() == 3 && yield->operand(2) != h2)
      continue;
    CellMatcher m(scan, body.arg(2), body.arg(hIdx), body.arg(cIdx));
    auto gates = m.match(h2, c2);
    if (!gates)
      continue;
    // Every body op is part of the cell (the yield aside): nothing else reads the state.
    if (m.numMatched() + 1 != body.ops().size())
      return false;
    size_t numBias = countOf((*gates)[0], Source::Bias);
    for (const auto &gt : *gates)
      if (countOf(gt, Source::Bias) != numBias)
        return false;

    OperandBuilder ob(scan, hidden);
    auto wx = ob.gather(pick(*gates, Source::Input));
    WEFT_TRY(wx.status());
    auto wh = ob.gather(pick(*gates, Source::Hidden));
    WEFT_TRY(wh.status());
    Value *bias = nullptr;
    for (size_t n = 0; n < numBias; ++n) {
      auto part = ob.gather(pick(*gates, Source::Bias, n));
      WEFT_TRY(part.status());
      if (bias) {
        auto sum = ob.add(bias, *part);
        WEFT_TRY(sum.status());
        bias = *sum;
      } else {
        bias = *part;
      }
    }
    if (!bias)
      bias = ob.zeros(ir::Type({ir::Dim(4 * hidden)}, st.dtype()));
    // Name what the gathering made (the printer makes names unique).
    for (auto [v, name] : {std::pair{*wx, "wx"}, std::pair{*wh, "wh"}, std::pair{bias, "b"}})
      if (v->name().empty())
        v->setName(name);
    std::vector<Value *> operands = {xs, scan.operand(hIdx), scan.operand(cIdx), *wx, *wh, bias};
    if (g->hasLengths)
      operands.push_back(scan.operands().back());
    ir::Attrs attrs;
    if (scan.reverse())
      attrs["reverse"] = int64_t{1};
    auto fused = ob.builder().create(OpKind::LstmSequence, operands, attrs, {}, scan.loc());
    WEFT_TRY(fused.status());

    ir::Uses uses(*scan.parentBlock());
    std::vector<std::pair<size_t, size_t>> from = {{hIdx, 1}, {cIdx, 2}};
    if (scan.numResults() == 3)
      from.push_back({2, 0});
    for (auto [r, to] : from) {
      (*fused)->result(to)->setName(scan.result(r)->name());
      uses.replaceAllUsesWith(scan.result(r), (*fused)->result(to));
    }
    uses.erase(scan);
    return true;
  }
  return false;
}

class FuseLstmPass : public Pass {
public:
  std::string_view name() const override { return "fuse-lstm"; }
  Expected<bool> run(ir::Module &m) override { return rewriteEachScan(m, fuse); }
};

} // namespace

std::unique_ptr<Pass> createFuseLstmPass() { return std::make_unique<FuseLstmPass>(); }

} // namespace weft::passes
