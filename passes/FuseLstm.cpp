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
// term (passes/LstmCellMatch.h). The weights of the fused op are gathered before the loop, in the
// gate order i, f, g, o: a matrix whose column blocks are already in that order is used as it is,
// otherwise its blocks are sliced and concatenated once. The term matching and the gathering are
// shared with fuse-gru and fuse-rnn (passes/CellMatch.h).
//
// Refused: any other op on the path (a peephole LSTM reads c in its gates), an extra emit or
// a carry yielded in another role (a state used outside the cell), several sequences.
//
//===----------------------------------------------------------------------===//
#include "ir/Infer.h"
#include "passes/LstmCellMatch.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

namespace weft::passes {
namespace {

using ir::OpKind;
using ir::Value;
using namespace cell;

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
    LstmCellMatcher m(body, body.arg(2), body.arg(hIdx), body.arg(cIdx));
    auto gates = m.match(h2, c2);
    if (!gates)
      continue;
    // Every body op is part of the cell (the yield aside): nothing else reads the state.
    if (!m.matchedAll())
      return false;
    if (!sameBiasCount(*gates))
      return false;
    OperandBuilder ob(scan, hidden);
    auto w = gatherLstmWeights(ob, *gates, st.dtype());
    WEFT_TRY(w.status());
    std::vector<Value *> operands = {xs,     scan.operand(hIdx), scan.operand(cIdx), w->wx, w->wh,
                                     w->bias};
    if (g->hasLengths)
      operands.push_back(scan.operands().back());
    ir::Attrs attrs;
    if (scan.reverse())
      attrs["reverse"] = int64_t{1};
    auto fused = ob.builder().create(OpKind::LstmSequence, operands, attrs, {}, scan.loc());
    WEFT_TRY(fused.status());

    std::vector<std::pair<size_t, size_t>> from = {{hIdx, 1}, {cIdx, 2}};
    if (scan.numResults() == 3)
      from.push_back({2, 0});
    const std::pair<Value *, const char *> names[] = {{w->wx, "wx"}, {w->wh, "wh"}, {w->bias, "b"}};
    replaceScan(scan, **fused, from, names);
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
