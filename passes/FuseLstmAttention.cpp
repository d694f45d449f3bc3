//===- passes/FuseLstmAttention.cpp - decoder cell + attention -> one step op ===//
//
// An attention decoder's step as seq2seq::DecoderAttention and nn::AttentionWrapper write it
// (TF's AttentionWrapper): the top LSTM cell's new h queries the attention over the encoder's
// outputs, and the attention vector is concat(h, context) times a weight. Inside a scan or
// while body,
//
//   h2, c2 = LSTM cell of x, h, c                  (passes/LstmCellMatch.h; h, c carried)
//   context, weights = Bahdanau's attention of h2: additive_attention(matmul(h2, wq), kp, v,
//                      values (, mask)), as fuse-additive-attention (run first) makes it
//                    | Luong's, as nn::LuongAttention writes it in primitives:
//                      softmax(reshape(matmul(reshape(h2, [B,1,H]), kT)) (* g) (+ mask)) over S,
//                      its context as passes/AttentionMatch.h matches it
//   att = matmul(concat(h2, context) {axis = 1}, wa)
//
// becomes one `lstm_attention_step` (ir/Ops.def; {luong = 1} for Luong's score, with kT's
// transpose the keys and g = 1 where there is no scale), the cell's weights gathered before
// the loop (in the gate order i, f, g, o, as fuse-lstm does), and h2, c2, att and weights read
// from it. wq, wa, kT and g must come from outside the loop (licm moves them out), kp too
// (fuse-additive-attention asks for it).
//
// Why one op per step and not a sequence op over the whole scan: the step's input x depends on
// the previous step's output in a greedy `while` (and on a lower layer's cell in both loops),
// so no input projection can be hoisted over the steps; a step op serves the scan and the
// while alike and leaves the rest of the body (embedding, lower layers, output layer) to the
// other passes. The kernel runs the whole step in one pass per block of batch rows, nothing but
// the results going through memory (backends/cpu/EmitLstmAttentionStep.cpp).
//
// Left alone: a peephole cell (c in the gates), a cell whose inner values are read elsewhere
// (a gate, tanh(c2)), a query that is not the cell's h2 (c2, say), a context read by anything
// but the concat, a concat in the other order, an attention vector from weights in the loop,
// and any attention the matchers do not take (a mask that is not added, a softmax over B).
//
// Inference only: the train pipeline keeps the cell and additive_attention apart (their VJPs
// exist; this op has none). The `optimize` pipeline runs it with {scores=additive}, after
// fuse-additive-attention: Bahdanau's fused step is at least as fast as the unfused one
// (1.07x on the sort-letters decoder, 0.97-0.99x at H = 256, S = 50), while Luong's is not
// (the kernel's tiled products are slower than the packed GEMMs of the unfused step, which
// shows where the attention is cheap: 0.6x at H = 256; docs/Benchmarks.md). By name, with no
// option, the pass fuses both.
//
//===----------------------------------------------------------------------===//
#include "ir/Uses.h"
#include "ir/Walk.h"
#include "passes/AttentionMatch.h"
#include "passes/LstmCellMatch.h"
#include "passes/Passes.h"
#include "transforms/DeadCode.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <unordered_set>

namespace weft::passes {
namespace {

using ir::Op;
using ir::OpKind;
using ir::Value;
using namespace cell;

Op *defIn(Value *v, OpKind k, const ir::Block &body) {
  Op *d = v && !v->isBlockArg() ? v->definingOp() : nullptr;
  return d && d->kind() == k && d->parentBlock() == &body ? d : nullptr;
}

/// The one user of `v`, or nullptr.
Op *soleUser(const ir::Uses &uses, const Value *v) {
  return uses.count(v) == 1 ? uses.of(v)[0].user : nullptr;
}

/// The cell's part of a fused step.
struct Match {
  Value *x = nullptr, *h = nullptr, *c = nullptr, *h2 = nullptr, *c2 = nullptr;
  std::array<std::vector<Term>, 4> gates;
  std::set<Op *> cell;
};

/// The attention's part: scores of the query h2 (through wq for Bahdanau), the context and
/// weights it makes, the ops it absorbs, and where the fused op goes.
struct Attention {
  bool luong = false;
  Value *query = nullptr, *wq = nullptr, *kp = nullptr, *scale = nullptr, *values = nullptr,
        *mask = nullptr, *context = nullptr, *weights = nullptr;
  std::vector<Op *> ops;
  Op *at = nullptr;
};

/// The step inputs a cell in `body` may read through its input GEMMs: the row operands of
/// matmuls by weights from outside, and the parts of such an operand's concat.
std::vector<Value *> inputCandidates(ir::Block &body) {
  std::vector<Value *> out;
  auto add = [&](Value *v) {
    if (v->type().rank() == 2 && std::find(out.begin(), out.end(), v) == out.end())
      out.push_back(v);
  };
  for (auto &op : body.ops()) {
    if (op->kind() != OpKind::Matmul || definedUnder(op->operand(1), body))
      continue;
    Value *a = op->operand(0);
    add(a);
    if (Op *cat = defIn(a, OpKind::Concat, body))
      for (Value *part : cat->operands())
        add(part);
  }
  return out;
}

/// Whether `h2` is the new h of an LSTM cell over carried h, c in `body`; fills the cell part.
bool matchCell(ir::Block &body, Value *h2, const ir::Uses &uses, Match &m) {
  Op *mul = defIn(h2, OpKind::Mul, body);
  if (!mul)
    return false;
  std::vector<Value *> xs = inputCandidates(body);
  for (Value *t : mul->operands()) {
    Op *tanh = defIn(t, OpKind::Tanh, body);
    if (!tanh)
      continue;
    Value *c2 = tanh->operand(0);
    for (Value *c : body.args())
      for (Value *h : body.args())
        for (Value *x : xs) {
          if (h == c || x == h || x == c || c->type() != c2->type() || h->type() != c2->type())
            continue;
          LstmCellMatcher cm(body, x, h, c);
          auto gates = cm.match(h2, c2);
          if (!gates)
            continue;
          size_t numBias = BodyMatcher::countOf((*gates)[0], Source::Bias);
          bool sameBias = true;
          for (const auto &g : *gates)
            sameBias &= BodyMatcher::countOf(g, Source::Bias) == numBias;
          if (!sameBias)
            continue;
          // Only h2 and c2 leave the cell: nothing else reads its inner values.
          bool closed = true;
          for (Op *op : cm.matched())
            for (Value *r : op->results())
              if (r != h2 && r != c2)
                for (const ir::Use &u : uses.of(r))
                  closed &= cm.matched().count(u.user) > 0;
          if (!closed)
            return false;
          m.x = x, m.h = h, m.c = c, m.h2 = h2, m.c2 = c2;
          m.gates = *gates;
          m.cell = cm.matched();
          return true;
        }
  }
  return false;
}

/// The scan or while whose body holds `op` directly, or nullptr.
Op *enclosingLoop(Op &op) {
  Op *p = op.parentOp();
  return p && (p->kind() == OpKind::Scan || p->kind() == OpKind::While) ? p : nullptr;
}

/// Bahdanau's attention: an additive_attention op whose query is matmul(h2, wq).
std::optional<Attention> bahdanau(Op &att, const ir::Uses &uses) {
  ir::Block &body = *att.parentBlock();
  Value *qp = att.operand(0);
  Op *query = defIn(qp, OpKind::Matmul, body);
  if (!query || soleUser(uses, qp) != &att || definedUnder(query->operand(1), body) ||
      query->operand(1)->type().rank() != 2)
    return std::nullopt;
  Attention a;
  a.query = query->operand(0), a.wq = query->operand(1), a.kp = att.operand(1),
  a.scale = att.operand(2), a.values = att.operand(3);
  a.mask = att.numOperands() == 5 ? att.operand(4) : nullptr;
  a.context = att.result(0), a.weights = att.result(1);
  a.ops = {query, &att};
  a.at = &att;
  return a;
}

/// Luong's scores as nn::LuongAttention writes them, [B,S]:
///   s = reshape(matmul(reshape(q, [B,1,H]), kT), [B,S]) (* broadcast(g) {dims = []})
/// with kT [B,H,S] (the keys transposed) and the scale g [] from outside the loop.
bool luongScores(Value *s, attention::Match &m, const ir::Block &body) {
  std::vector<Op *> chain;
  Value *g = nullptr;
  if (Op *mul = attention::defOf(s, OpKind::Mul)) {
    bool ok = attention::eitherOrder(mul, [&](Value *raw, Value *bg) {
      Op *bc = attention::defOf(bg, OpKind::Broadcast);
      if (!bc || bc->operand(0)->type().rank() != 0 || definedUnder(bc->operand(0), body))
        return false;
      g = bc->operand(0);
      s = raw;
      chain.insert(chain.end(), {mul, bc});
      return true;
    });
    if (!ok)
      return false;
  }
  Op *rows = attention::defOf(s, OpKind::Reshape);
  Op *mm = rows ? attention::defOf(rows->operand(0), OpKind::Matmul) : nullptr;
  Op *q3 = mm ? attention::defOf(mm->operand(0), OpKind::Reshape) : nullptr;
  if (!q3 || mm->result()->type().rank() != 3 || mm->result()->type().dim(1) != ir::Dim(1) ||
      q3->operand(0)->type().rank() != 2 || definedUnder(mm->operand(1), body))
    return false;
  chain.insert(chain.end(), {rows, mm, q3});
  m.qp = q3->operand(0), m.kp = mm->operand(1), m.v = g;
  m.chain.insert(m.chain.end(), chain.begin(), chain.end());
  return true;
}

/// Luong's attention in primitives, from the op `final` that makes its context.
std::optional<Attention> luong(Op &final, const ir::Uses &uses) {
  ir::Block &body = *final.parentBlock();
  attention::Match m;
  auto scores = [&](Value *s, attention::Match &mm) { return luongScores(s, mm, body); };
  if (!attention::context(final, uses, m, scores) || m.softmaxDiv->parentBlock() != &body ||
      (m.mask && m.mask->type() != m.weights->type()) ||
      !attention::availableBefore(m.values, *m.softmaxDiv))
    return std::nullopt;
  Attention a;
  a.luong = true;
  a.query = m.qp, a.kp = m.kp, a.scale = m.v, a.values = m.values, a.mask = m.mask;
  a.context = final.result(), a.weights = m.weights;
  a.ops = m.chain;
  a.at = m.softmaxDiv;
  return a;
}

/// Whether the fused op can stand at `a.at`: the values it replaces are read only after it
/// (the ops it absorbs aside).
bool placeable(ir::Block &body, const Attention &a, const Match &m,
               const std::unordered_set<const Op *> &absorbed, const ir::Uses &uses) {
  std::unordered_set<const Op *> before;
  for (auto &op : body.ops()) {
    if (op.get() == a.at)
      break;
    before.insert(op.get());
  }
  for (Value *v : {m.h2, m.c2})
    for (const ir::Use &u : uses.of(v))
      if (!absorbed.count(u.user) && before.count(u.user))
        return false;
  return true;
}

/// The luong step's keys [B,S,H] from kT [B,H,S]: the transpose's operand, or a transpose
/// before the loop.
Expected<Value *> keysOf(Value *kT, OperandBuilder &ob) {
  if (Op *t = attention::defOf(kT, OpKind::Transpose);
      t && t->perm() == std::vector<int64_t>{0, 2, 1})
    return t->operand(0);
  return ob.builder().create1(OpKind::Transpose, {kT}, {{"perm", std::vector<int64_t>{0, 2, 1}}},
                              {}, kT->definingOp() ? kT->definingOp()->loc() : Loc{});
}

Expected<bool> fuseStep(Attention a, ir::Uses &uses, std::unordered_set<const Op *> &replaced) {
  Op *loop = enclosingLoop(*a.at);
  if (!loop)
    return false;
  ir::Block &body = *a.at->parentBlock();
  // The attention vector: matmul(concat(h2, context), wa), wa from outside.
  Op *concat = soleUser(uses, a.context);
  if (!concat || concat->kind() != OpKind::Concat || concat->axis() != 1 ||
      concat->numOperands() != 2 || concat->operand(1) != a.context ||
      concat->operand(0) != a.query)
    return false;
  Op *output = soleUser(uses, concat->result());
  if (!output || output->kind() != OpKind::Matmul || output->operand(0) != concat->result() ||
      definedUnder(output->operand(1), body) || output->operand(1)->type().rank() != 2)
    return false;
  Match m;
  if (!matchCell(body, a.query, uses, m) || !m.h2->type().dim(1).isStatic())
    return false;
  std::unordered_set<const Op *> absorbed(m.cell.begin(), m.cell.end());
  absorbed.insert(a.ops.begin(), a.ops.end());
  absorbed.insert({concat, output});
  if (!placeable(body, a, m, absorbed, uses))
    return false;

  const DType dt = m.h2->type().dtype();
  OperandBuilder ob(*loop, m.h2->type().dim(1).size());
  auto wx = ob.gather(pick(m.gates, Source::Input));
  WEFT_TRY(wx.status());
  auto wh = ob.gather(pick(m.gates, Source::Hidden));
  WEFT_TRY(wh.status());
  std::vector<std::vector<Term>> biases;
  for (const auto &g : m.gates) {
    biases.emplace_back();
    for (const Term &t : g)
      if (t.source == Source::Bias)
        biases.back().push_back(t);
  }
  auto bias = ob.gatherBias(biases, dt);
  WEFT_TRY(bias.status());
  for (auto [v, name] : {std::pair{*wx, "wx"}, std::pair{*wh, "wh"}, std::pair{*bias, "b"}})
    if (v->name().empty())
      v->setName(name);

  std::vector<Value *> operands = {m.x, m.h, m.c, *wx, *wh, *bias};
  ir::Attrs attrs;
  if (a.luong) {
    auto keys = keysOf(a.kp, ob);
    WEFT_TRY(keys.status());
    Value *g = a.scale ? a.scale : ob.builder().splat(ir::Type({}, dt), 1.0, loop->loc());
    for (auto [v, name] : {std::pair{*keys, "keys"}, std::pair{g, "g"}})
      if (v->name().empty())
        v->setName(name);
    operands.insert(operands.end(), {*keys, g});
    attrs["luong"] = int64_t{1};
  } else {
    operands.insert(operands.end(), {a.wq, a.kp, a.scale});
  }
  operands.insert(operands.end(), {a.values, output->operand(1)});
  if (a.mask)
    operands.push_back(a.mask);
  ir::OpBuilder b(body);
  b.setInsertionPointBefore(a.at);
  auto step = b.create(OpKind::LstmAttentionStep, operands, attrs, {}, a.at->loc());
  if (!step) // shapes that matched piecewise but do not make one op: leave the body alone
    return false;
  const std::pair<Value *, size_t> results[] = {
      {m.h2, 0}, {m.c2, 1}, {output->result(), 2}, {a.weights, 3}};
  for (auto [from, to] : results) {
    Value *r = (*step)->result(to);
    r->setName(from->name());
    uses.replaceAllUsesWith(from, r);
  }
  replaced.insert(absorbed.begin(), absorbed.end());
  return true;
}

/// `additiveOnly`: leave Luong's steps alone (the optimize pipeline's choice: see the file
/// comment).
Expected<bool> fuseFunction(ir::Function &f, bool additiveOnly) {
  // Bahdanau's attention (an additive_attention op) and the ops that may end Luong's (its
  // context), in loop bodies.
  std::vector<Op *> candidates;
  ir::walk(f.body(), [&](Op &op) {
    bool kind = op.kind() == OpKind::AdditiveAttention ||
                (!additiveOnly && (op.kind() == OpKind::Reshape || op.kind() == OpKind::ReduceSum));
    if (kind && enclosingLoop(op))
      candidates.push_back(&op);
  });
  ir::Uses uses(f.body());
  std::unordered_set<const Op *> replaced;
  for (Op *op : candidates) {
    if (replaced.count(op))
      continue;
    std::optional<Attention> a =
        op->kind() == OpKind::AdditiveAttention ? bahdanau(*op, uses) : luong(*op, uses);
    if (!a)
      continue;
    auto fused = fuseStep(*a, uses, replaced);
    WEFT_TRY(fused.status());
  }
  if (replaced.empty())
    return false;
  transforms::eraseDeadOps(
      f.body(), [&](const Op &op) { return replaced.count(&op) > 0 && transforms::isPureOp(op); });
  return true;
}

class FuseLstmAttentionPass final : public FunctionPass {
public:
  std::string_view name() const override { return "fuse-lstm-attention"; }
  Expected<bool> runOnFunction(ir::Function &f) override { return fuseFunction(f, additiveOnly_); }

  /// scores=all (the default: Bahdanau's and Luong's steps) or scores=additive (Bahdanau's).
  Status setOption(std::string_view key, std::string_view value) override {
    if (key != "scores")
      return err(fmt::format("pass 'fuse-lstm-attention' has no option '{}'", key));
    if (value != "all" && value != "additive")
      return err(
          fmt::format("fuse-lstm-attention option scores is all or additive, got '{}'", value));
    additiveOnly_ = value == "additive";
    return {};
  }

private:
  bool additiveOnly_ = false;
};

} // namespace

std::unique_ptr<Pass> createFuseLstmAttentionPass() {
  return std::make_unique<FuseLstmAttentionPass>();
}

} // namespace weft::passes
