//===- passes/FuseLstmStep.cpp - an LSTM cell in a while body -> one step ---===//
//
// A greedy or sampling decoder runs its LSTM cells in a `while` whose every trip depends on
// the last (the next input is the embedded argmax), so fuse-lstm's one lstm_sequence over all
// steps cannot apply. Each trip still runs the cell as two GEMMs, a fusion adding the biases,
// four slices and a fusion for the gates and the state update: the [B, 4H] pre-activations go
// through memory twice. This pass makes each such cell one lstm_sequence over a single step,
//
//   %h2, %c2 = cell(%x, %h, %c)    ->    %hs, %h2, %c2 = lstm_sequence reshape(%x) [1, B, I],
//                                                            %h, %c, %wx, %wh, %b
//
// which the cpu backend runs as its LSTM kernel (the recurrent GEMM tile through the gates in
// L1). The cell is matched as fuse-lstm matches it (passes/LstmCellMatch.h), with x, h and c any
// [B, *] values of the body that its GEMMs multiply (h and c need not be carries: the step is a
// pure function of them, and for one step x and h play the same part: which of two [B, H]
// operands is taken for x does not change what the step computes); the weights are gathered
// before the loop. Every op of the cell but h2 and c2 must be used only by the cell.
//
// Only `while` bodies: a scan's cell is fuse-lstm's (a whole sequence), and a step inside a
// scan that fuse-lstm refused would be differentiated op by op in training anyway.
//
//===----------------------------------------------------------------------===//
#include "ir/Infer.h"
#include "ir/Uses.h"
#include "ir/Walk.h"
#include "passes/LstmCellMatch.h"
#include "passes/Passes.h"

#include <algorithm>

namespace weft::passes {
namespace {

using ir::OpKind;
using ir::Value;
using namespace cell;

/// The values the body's GEMMs multiply from the left (and the pieces of a joined operand):
/// the candidates for x and h.
std::vector<Value *> gemmInputs(ir::Block &body) {
  std::vector<Value *> out;
  auto add = [&](Value *v) {
    if (v->type().rank() == 2 && std::find(out.begin(), out.end(), v) == out.end())
      out.push_back(v);
  };
  for (auto &op : body.ops()) {
    if (op->kind() != OpKind::Matmul)
      continue;
    Value *a = op->operand(0);
    add(a); // x itself, or [x, h] joined
    if (a->definingOp() && a->definingOp()->kind() == OpKind::Concat &&
        a->definingOp()->parentBlock() == &body)
      for (Value *piece : a->definingOp()->operands())
        add(piece);
  }
  return out;
}

/// Whether the results of the matched ops other than h2 and c2 are read only by matched ops.
bool selfContained(const std::set<ir::Op *> &matched, Value *h2, Value *c2, const ir::Uses &uses) {
  for (ir::Op *op : matched)
    for (Value *r : op->results()) {
      if (r == h2 || r == c2)
        continue;
      for (const ir::Use &u : uses.of(r))
        if (!matched.count(u.user))
          return false;
    }
  return true;
}

/// Fuses the cell whose new h is `h2` (a mul in `loop`'s body), if it is one.
Expected<bool> fuseAt(ir::Op &loop, ir::Op &h2op, const std::vector<Value *> &inputs) {
  ir::Block &body = loop.region();
  Value *h2 = h2op.result();
  // h2 = sigmoid(z_o) * tanh(c2): c2 and, from c2 = sigmoid(z_f) * c + ..., c's candidates.
  for (Value *t : h2op.operands()) {
    ir::Op *tanh = t->definingOp();
    if (!tanh || tanh->kind() != OpKind::Tanh)
      continue;
    Value *c2 = tanh->operand(0);
    ir::Op *add = c2->definingOp();
    if (!add || add->kind() != OpKind::Add || add->parentBlock() != &body)
      continue;
    const ir::Type &st = c2->type();
    if (st.rank() != 2 || !ir::isFloat(st.dtype()) || !st.dim(1).isStatic())
      continue;
    std::vector<Value *> cs;
    for (Value *p : add->operands())
      if (ir::Op *mul = p->definingOp(); mul && mul->kind() == OpKind::Mul)
        for (Value *v : mul->operands())
          if (v->type() == st)
            cs.push_back(v);
    for (Value *c : cs)
      for (Value *h : inputs)
        for (Value *x : inputs) {
          if (x == h || h->type() != st || x == c || h == c || x->type().dim(0) != st.dim(0) ||
              x->type().dtype() != st.dtype() || !x->type().dim(1).isStatic())
            continue;
          LstmCellMatcher m(body, x, h, c);
          auto gates = m.match(h2, c2);
          if (!gates || !sameBiasCount(*gates) ||
              !selfContained(m.matched(), h2, c2, ir::Uses(body)))
            continue;
          OperandBuilder ob(loop, st.dim(1).size());
          auto w = gatherLstmWeights(ob, *gates, st.dtype());
          WEFT_TRY(w.status());
          ir::OpBuilder b(body);
          b.setInsertionPointBefore(add);
          const ir::Type &xt = x->type();
          auto xs =
              b.create1(OpKind::Reshape, {x}, {},
                        {ir::Type({ir::Dim(1), xt.dim(0), xt.dim(1)}, xt.dtype())}, h2op.loc());
          WEFT_TRY(xs.status());
          auto step = b.create(OpKind::LstmSequence, {*xs, h, c, w->wx, w->wh, w->bias}, {}, {},
                               h2op.loc());
          WEFT_TRY(step.status());
          ir::Uses uses(body);
          (*step)->result(1)->setName(h2->name());
          (*step)->result(2)->setName(c2->name());
          uses.replaceAllUsesWith(h2, (*step)->result(1));
          uses.replaceAllUsesWith(c2, (*step)->result(2));
          return true; // the cell's ops are dead now: dce removes them
        }
  }
  return false;
}

class FuseLstmStepPass : public Pass {
public:
  std::string_view name() const override { return "fuse-lstm-step"; }
  Expected<bool> run(ir::Module &m) override {
    bool changed = false;
    for (auto &f : m.functions()) {
      std::vector<ir::Op *> loops;
      ir::walk(f->body(), [&](ir::Op &op) {
        if (op.kind() == OpKind::While)
          loops.push_back(&op);
      });
      for (ir::Op *loop : loops) {
        std::vector<ir::Op *> muls;
        for (auto &op : loop->region().ops())
          if (op->kind() == OpKind::Mul)
            muls.push_back(op.get());
        for (ir::Op *mul : muls) {
          // Afresh for each cell: a fused cell's h2 (the next layer's x) is a new value.
          auto r = fuseAt(*loop, *mul, gemmInputs(loop->region()));
          WEFT_TRY(r.status());
          changed |= *r;
        }
      }
    }
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createFuseLstmStepPass() { return std::make_unique<FuseLstmStepPass>(); }

} // namespace weft::passes
