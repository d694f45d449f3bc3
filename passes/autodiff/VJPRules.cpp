//===- passes/autodiff/VJPRules.cpp - the VJP of every primitive op -------===//
//
// Notation: x, a, b are operands, y the result, g the adjoint of y. Each rule
// returns one adjoint per operand (nullptr: none, e.g. integer indices).
//
//===----------------------------------------------------------------------===//
#include "passes/autodiff/Emit.h"
#include "passes/autodiff/VJP.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace weft::autodiff {
namespace {

using ir::OpKind;
using ir::Value;
using Grads = std::vector<Value *>;

Value *gt0(Emit &e, Value *x) { return e.op(OpKind::Gt, {x, e.zerosLike(x)}); }

/// d/dx of a unary op, times g.
Value *unaryVJP(Emit &e, OpKind k, Value *x, Value *y, Value *g) {
  switch (k) {
  case OpKind::Neg:
    return e.neg(g);
  case OpKind::Abs:
    return e.mul(g, e.op(OpKind::Sign, {x}));
  case OpKind::Relu:
    return e.select(gt0(e, x), g, e.zerosLike(g));
  case OpKind::Exp:
    return e.mul(g, y);
  case OpKind::Log:
    return e.div(g, x);
  case OpKind::Tanh: // 1 - y^2
    return e.mul(g, e.sub(e.splatLike(y, 1.0), e.mul(y, y)));
  case OpKind::Sigmoid: // y (1 - y)
    return e.mul(g, e.mul(y, e.sub(e.splatLike(y, 1.0), y)));
  case OpKind::Sqrt: // 1 / (2 y)
    return e.div(e.scale(g, 0.5), y);
  case OpKind::Rsqrt: // -1/2 x^(-3/2) = -1/2 y^3
    return e.mul(e.scale(g, -0.5), e.mul(y, e.mul(y, y)));
  case OpKind::Sin:
    return e.mul(g, e.op(OpKind::Cos, {x}));
  case OpKind::Cos:
    return e.neg(e.mul(g, e.op(OpKind::Sin, {x})));
  case OpKind::Erf: // 2/sqrt(pi) exp(-x^2)
    return e.mul(e.scale(g, 2.0 / std::sqrt(std::numbers::pi)),
                 e.op(OpKind::Exp, {e.neg(e.mul(x, x))}));
  case OpKind::Sign:
  case OpKind::Floor:
  case OpKind::Ceil: // piecewise constant: zero gradient
  case OpKind::StopGradient:
  case OpKind::Not:
    return nullptr;
  default:
    WEFT_UNREACHABLE("not a unary op");
  }
}

Grads binaryVJP(Emit &e, OpKind k, Value *a, Value *b, Value *y, Value *g,
                const std::vector<bool> &want) {
  switch (k) {
  case OpKind::Add:
    return {g, g};
  case OpKind::Sub:
    return {g, want[1] ? e.neg(g) : nullptr};
  case OpKind::Mul:
    return {want[0] ? e.mul(g, b) : nullptr, want[1] ? e.mul(g, a) : nullptr};
  case OpKind::Div: // d/db a/b = -y/b
    return {want[0] ? e.div(g, b) : nullptr, want[1] ? e.neg(e.div(e.mul(g, y), b)) : nullptr};
  case OpKind::Max:
  case OpKind::Min: { // ties go to a
    Value *takeA = e.op(k == OpKind::Max ? OpKind::Ge : OpKind::Le, {a, b});
    Value *zero = e.zerosLike(g);
    return {want[0] ? e.select(takeA, g, zero) : nullptr,
            want[1] ? e.select(takeA, zero, g) : nullptr};
  }
  case OpKind::Pow: { // d/da = b a^(b-1), d/db = log(a) y
    Value *da = nullptr, *db = nullptr;
    if (want[0])
      da = e.mul(g, e.mul(b, e.op(OpKind::Pow, {a, e.sub(b, e.splatLike(b, 1.0))})));
    if (want[1])
      db = e.mul(g, e.mul(e.op(OpKind::Log, {a}), y));
    return {da, db};
  }
  default:
    WEFT_UNREACHABLE("not a differentiable binary op");
  }
}

/// Sums g (the broadcast result's shape) back to the operand's shape.
Value *unbroadcast(Emit &e, ir::Op &op, Value *g) {
  const ir::Type &x = op.operand(0)->type(), &y = op.result()->type();
  const auto &dims = op.dims();
  std::vector<int64_t> axes;
  for (int64_t r = 0; r < y.rank(); ++r) {
    auto it = std::find(dims.begin(), dims.end(), r);
    if (it == dims.end() || (x.dim(it - dims.begin()) == ir::Dim(1) && y.dim(r) != ir::Dim(1)))
      axes.push_back(r);
  }
  return e.reshape(e.reduceSum(g, axes), x);
}

/// Broadcasts a reduction's result-shaped value back over the reduced axes.
Value *rebroadcast(Emit &e, Value *v, const ir::Type &to, const std::vector<int64_t> &axes) {
  std::vector<int64_t> kept;
  for (int64_t a = 0; a < to.rank(); ++a)
    if (std::find(axes.begin(), axes.end(), a) == axes.end())
      kept.push_back(a);
  return e.broadcast(v, kept, to.withDType(v->type().dtype()));
}

Expected<Grads> reduceVJP(Emit &e, ir::Op &op, Value *g) {
  Value *x = op.operand(0), *y = op.result();
  const auto &axes = op.axes();
  Value *gb = rebroadcast(e, g, x->type(), axes);
  switch (op.kind()) {
  case OpKind::ReduceSum:
    return Grads{gb};
  case OpKind::ReduceMean: { // divide by the count, which may be symbolic: sum ones
    Value *count = e.reduceSum(e.splatLike(x, 1.0), axes);
    return Grads{rebroadcast(e, e.div(g, count), x->type(), axes)};
  }
  case OpKind::ReduceMax:
  case OpKind::ReduceMin: { // split evenly between ties
    Value *hit = e.op(OpKind::Eq, {x, rebroadcast(e, y, x->type(), axes)});
    Value *ties = e.reduceSum(e.cast(hit, x->type().dtype()), axes);
    Value *share = rebroadcast(e, e.div(g, ties), x->type(), axes);
    return Grads{e.select(hit, share, e.zerosLike(x))};
  }
  default:
    WEFT_UNREACHABLE("not a reduction");
  }
}

/// Swaps the last two axes.
Value *transposeLast2(Emit &e, Value *v) {
  int64_t r = v->type().rank();
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < r; ++i)
    perm.push_back(i);
  std::swap(perm[r - 1], perm[r - 2]);
  return e.transpose(v, perm);
}

Expected<Grads> structuralVJP(Emit &e, ir::Op &op, Value *g) {
  Value *x = op.operand(0);
  switch (op.kind()) {
  case OpKind::Broadcast:
    return Grads{unbroadcast(e, op, g)};
  case OpKind::Reshape:
    return Grads{e.reshape(g, x->type())};
  case OpKind::Transpose: {
    const auto &perm = op.perm();
    std::vector<int64_t> inv(perm.size());
    for (size_t i = 0; i < perm.size(); ++i)
      inv[perm[i]] = static_cast<int64_t>(i);
    return Grads{e.transpose(g, inv)};
  }
  case OpKind::Slice: {
    int64_t axis = op.axis(), size = x->type().dim(axis).size();
    std::vector<int64_t> low(x->type().rank(), 0), high(x->type().rank(), 0);
    low[axis] = op.start();
    high[axis] = size - op.limit();
    return Grads{e.op(OpKind::Pad, {g}, {{"low", low}, {"high", high}, {"value", 0.0}})};
  }
  case OpKind::Pad: {
    Value *r = g;
    const auto &low = op.low();
    for (int64_t a = 0; a < x->type().rank(); ++a)
      if (x->type().dim(a) != r->type().dim(a))
        r = e.slice(r, a, low[a], low[a] + x->type().dim(a).size());
    return Grads{r};
  }
  case OpKind::Concat: {
    int64_t axis = op.axis(), offset = 0;
    Grads gs;
    for (Value *part : op.operands()) {
      const ir::Dim &d = part->type().dim(axis);
      if (!d.isStatic() || !op.result()->type().dim(axis).isStatic())
        return err(fmt::format("autodiff: the gradient of concat along axis {} of symbolic size "
                               "{} is not supported; concatenate along a static axis",
                               axis, op.result()->type().dim(axis).str()),
                   op.loc());
      gs.push_back(e.slice(g, axis, offset, offset + d.size()));
      offset += d.size();
    }
    return gs;
  }
  default:
    WEFT_UNREACHABLE("not a structural op");
  }
}

std::vector<int64_t> axesUpTo(int64_t n) {
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < n; ++i)
    axes.push_back(i);
  return axes;
}

/// The gradient of attention's mask, in primitives: the probabilities p recomputed from the
/// scores (this one holds the Tq x Tk matrix, as the mask it is the gradient of mostly does),
/// ds = p (do v^T - rowsum(do o)), summed over the axes the mask broadcasts along.
Value *attentionMaskGrad(Emit &e, ir::Op &op, Value *g) {
  Value *q = op.operand(0), *k = op.operand(1), *v = op.operand(2), *mask = op.operand(3);
  int64_t r = q->type().rank();
  Value *s = e.scale(e.op(OpKind::Matmul, {q, transposeLast2(e, k)}), op.scale());
  const ir::Type st = s->type();
  s = e.add(s, e.broadcast(mask, axesUpTo(r), st));
  if (op.causal()) {
    ir::Type it = st.withDType(DType::I64);
    Value *qi = e.op(OpKind::Iota, {}, {{"axis", r - 2}}, {it});
    Value *kj = e.op(OpKind::Iota, {}, {{"axis", r - 1}}, {it});
    s = e.select(e.op(OpKind::Ge, {qi, kj}), s,
                 e.splatLike(s, -std::numeric_limits<double>::infinity()));
  }
  auto rows = [&](Value *x) { return e.broadcast(x, axesUpTo(r - 1), st); };
  // Rows with every score -inf have p = 0, as in attention.
  Value *m = e.op(OpKind::ReduceMax, {s}, {{"axes", std::vector<int64_t>{r - 1}}});
  m = e.select(e.op(OpKind::Eq, {m, e.splatLike(m, -std::numeric_limits<double>::infinity())}),
               e.zerosLike(m), m);
  Value *ex = e.op(OpKind::Exp, {e.sub(s, rows(m))});
  Value *z = e.reduceSum(ex, {r - 1});
  z = e.select(e.op(OpKind::Eq, {z, e.zerosLike(z)}), e.splatLike(z, 1.0), z);
  Value *p = e.div(ex, rows(z));
  Value *dp = e.op(OpKind::Matmul, {g, transposeLast2(e, v)});
  Value *rowDot = e.reduceSum(e.mul(g, op.result()), {r - 1});
  Value *ds = e.mul(p, e.sub(dp, rows(rowDot)));
  std::vector<int64_t> broadcastAxes;
  for (int64_t a = 0; a < r; ++a)
    if (mask->type().dim(a) != st.dim(a))
      broadcastAxes.push_back(a);
  return e.reshape(e.reduceSum(ds, broadcastAxes), mask->type());
}

/// dq, dk and dv as one attention_grad op, which recomputes the scores from q and k (none are
/// stored) once for all three, told by `wrt` which are wanted when not all are; the mask's
/// gradient, where wanted, from attentionMaskGrad.
Expected<Grads> attentionVJP(Emit &e, ir::Op &op, Value *g, const std::vector<bool> &want) {
  bool masked = op.numOperands() == 4;
  std::vector<Value *> xs = {op.operand(0), op.operand(1), op.operand(2), op.result(), g};
  if (masked)
    xs.push_back(op.operand(3));
  Grads grads(op.numOperands(), nullptr);
  if (want[0] || want[1] || want[2]) {
    ir::Attrs attrs = {{"scale", op.scale()}};
    if (op.causal())
      attrs["causal"] = int64_t{1};
    int64_t wrt = int64_t{want[0]} | int64_t{want[1]} << 1 | int64_t{want[2]} << 2;
    if (wrt != 7)
      attrs["wrt"] = wrt;
    ir::Op *grad = e.multi(OpKind::AttentionGrad, xs, attrs);
    for (size_t i = 0; i < 3; ++i)
      if (want[i])
        grads[i] = grad->result(i);
  }
  if (masked && want[3])
    grads[3] = attentionMaskGrad(e, op, g);
  return grads;
}

/// One lstm_sequence_grad for all of lstm_sequence's operands (the lengths have none): it
/// reads the forward's hs and the adjoints of hs, hT and cT (zeros for those that have none).
Expected<Grads> lstmSequenceVJP(Emit &e, ir::Op &op, const Grads &resultAdjoints) {
  bool any = false;
  for (Value *g : resultAdjoints)
    any |= g != nullptr;
  Grads grads(op.numOperands(), nullptr);
  if (!any)
    return grads;
  std::vector<Value *> xs(op.operands().begin(), op.operands().begin() + 6);
  xs.push_back(op.result(0));
  for (size_t r = 0; r < 3; ++r) {
    Value *g = r < resultAdjoints.size() ? resultAdjoints[r] : nullptr;
    xs.push_back(g ? g : e.zerosLike(op.result(r)));
  }
  if (op.numOperands() == 7)
    xs.push_back(op.operand(6));
  ir::Attrs attrs;
  if (op.reverse())
    attrs["reverse"] = int64_t{1};
  auto r = e.builder().create(OpKind::LstmSequenceGrad, xs, attrs, {}, e.loc());
  if (!r)
    return err(fmt::format("autodiff: lstm_sequence_grad: {}", r.diag().message), op.loc());
  for (size_t i = 0; i < 6; ++i)
    grads[i] = (*r)->result(i);
  return grads;
}

/// One gru_sequence_grad or rnn_sequence_grad for all of the op's operands (the lengths have
/// none), as lstm_sequence's: it reads the forward's hs and the adjoints of hs and hT (zeros
/// for those that have none), and keeps the op's attributes.
Expected<Grads> gatedSequenceVJP(Emit &e, ir::Op &op, const Grads &resultAdjoints) {
  bool any = false;
  for (Value *g : resultAdjoints)
    any |= g != nullptr;
  Grads grads(op.numOperands(), nullptr);
  if (!any)
    return grads;
  const bool gru = op.kind() == OpKind::GruSequence;
  const size_t base = gru ? 6 : 5;
  std::vector<Value *> xs(op.operands().begin(), op.operands().begin() + base);
  xs.push_back(op.result(0));
  for (size_t r = 0; r < 2; ++r) {
    Value *g = r < resultAdjoints.size() ? resultAdjoints[r] : nullptr;
    xs.push_back(g ? g : e.zerosLike(op.result(r)));
  }
  if (op.numOperands() == base + 1)
    xs.push_back(op.operand(base));
  const OpKind kind = gru ? OpKind::GruSequenceGrad : OpKind::RnnSequenceGrad;
  // The gradient recomputes what a training form's saved gates hold: save-gru-gates pairs
  // them after autodiff.
  ir::Attrs attrs = op.attrs();
  attrs.erase("save_gates");
  auto r = e.builder().create(kind, xs, attrs, {}, e.loc());
  if (!r)
    return err(fmt::format("autodiff: {}: {}", ir::opName(kind), r.diag().message), op.loc());
  for (size_t i = 0; i < base; ++i)
    grads[i] = (*r)->result(i);
  return grads;
}

} // namespace

Expected<Grads> vjpOp(ir::OpBuilder &b, ir::Op &op, const Grads &resultAdjoints,
                      const std::vector<bool> &want) {
  Emit e(b, op.loc());
  // Before the zero-adjoint early exit: the gradient may reach a while through any result.
  if (op.kind() == OpKind::While)
    return err("autodiff: cannot differentiate through 'while': its trip count depends on the "
               "data, so there is no fixed sequence of steps to run backwards. Write the loop "
               "as a scan over a maximum length with per-example lengths (a padded step "
               "contributes nothing), e.g. a teacher-forced decoder",
               op.loc());
  if (op.kind() == OpKind::Fusion)
    return err("autodiff: cannot differentiate a fused kernel; run autodiff before "
               "fuse-elementwise (as the train pipeline does)",
               op.loc());
  // Before the zero-adjoint early exit: the gradient may reach it through hT or cT only.
  if (op.kind() == OpKind::LstmSequence)
    return lstmSequenceVJP(e, op, resultAdjoints);
  if (op.kind() == OpKind::LstmSequenceGrad)
    return err("autodiff: cannot differentiate lstm_sequence_grad (no second derivatives of "
               "lstm_sequence); run autodiff once",
               op.loc());
  if (op.kind() == OpKind::LstmAttentionStep) // before the early exit, as lstm_sequence
    return err("autodiff: cannot differentiate lstm_attention_step, an inference-only fusion; "
               "run autodiff before fuse-lstm-attention (as the train pipeline does)",
               op.loc());
  if (op.kind() == OpKind::GruSequence || op.kind() == OpKind::RnnSequence) // likewise
    return gatedSequenceVJP(e, op, resultAdjoints);
  if (op.kind() == OpKind::GruSequenceGrad || op.kind() == OpKind::RnnSequenceGrad)
    return err(fmt::format("autodiff: cannot differentiate {} (no second derivatives of {}); run "
                           "autodiff once",
                           ir::opName(op.kind()),
                           op.kind() == OpKind::GruSequenceGrad ? "gru_sequence" : "rnn_sequence"),
               op.loc());
  if (op.kind() == OpKind::AdditiveAttention) // two results, either may have an adjoint
    return vjpAdditiveAttention(b, op, resultAdjoints, want);
  Value *g = resultAdjoints.empty() ? nullptr : resultAdjoints[0];
  Grads none(op.numOperands(), nullptr);
  if (!g)
    return none;
  switch (ir::opCategory(op.kind())) {
  case ir::OpCategory::Unary:
    return Grads{unaryVJP(e, op.kind(), op.operand(0), op.result(), g)};
  case ir::OpCategory::Binary:
    return binaryVJP(e, op.kind(), op.operand(0), op.operand(1), op.result(), g, want);
  case ir::OpCategory::Compare:
  case ir::OpCategory::Logical:
    return none;
  case ir::OpCategory::Structural:
    return structuralVJP(e, op, g);
  case ir::OpCategory::Reduce:
    return reduceVJP(e, op, g);
  case ir::OpCategory::Special:
    break;
  }
  switch (op.kind()) {
  case OpKind::Select: {
    Value *c = op.operand(0), *zero = e.zerosLike(g);
    return Grads{nullptr, want[1] ? e.select(c, g, zero) : nullptr,
                 want[2] ? e.select(c, zero, g) : nullptr};
  }
  case OpKind::Gather: {
    Value *table = op.operand(0), *idx = op.operand(1);
    Value *dt = e.op(OpKind::ScatterAdd, {e.zerosLike(table), idx, g}, {{"axis", op.axis()}});
    return Grads{dt, nullptr};
  }
  case OpKind::ScatterAdd: {
    Value *du = want[2] ? e.op(OpKind::Gather, {g, op.operand(1)}, {{"axis", op.axis()}}) : nullptr;
    return Grads{g, nullptr, du};
  }
  case OpKind::Matmul: { // dA = g B^T, dB = A^T g
    Value *a = op.operand(0), *bm = op.operand(1);
    return Grads{want[0] ? e.op(OpKind::Matmul, {g, transposeLast2(e, bm)}) : nullptr,
                 want[1] ? e.op(OpKind::Matmul, {transposeLast2(e, a), g}) : nullptr};
  }
  case OpKind::Attention:
    return attentionVJP(e, op, g, want);
  case OpKind::AttentionGrad:
    return err("autodiff: cannot differentiate attention_grad (no second derivatives of "
               "attention); run autodiff once",
               op.loc());
  case OpKind::Cast: {
    Value *x = op.operand(0);
    if (!ir::isFloat(x->type().dtype()) || !ir::isFloat(g->type().dtype()))
      return none;
    return Grads{e.cast(g, x->type().dtype())};
  }
  case OpKind::AllReduce: {
    // y = sum_r x_r is every replica's result, so each replica's x_r reaches every replica's
    // loss: dx_r = sum_r' g_r', the same all_reduce of the adjoint (the mean: 1/N of it).
    ir::Attrs attrs{{"group", op.group()}};
    if (op.mean())
      attrs["mean"] = int64_t{1};
    return Grads{e.op(OpKind::AllReduce, {g}, std::move(attrs))};
  }
  case OpKind::Argmax:
  case OpKind::Constant:
  case OpKind::Iota:
  case OpKind::RandomUniform:
  case OpKind::RandomNormal:
    return none;
  default:
    WEFT_UNREACHABLE("vjpOp: unhandled op kind");
  }
}

} // namespace weft::autodiff
