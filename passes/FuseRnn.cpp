//===- passes/FuseRnn.cpp - a scan computing an Elman RNN cell -> rnn_sequence -===//
//
// A scan with one carry h, one sequence xs [T, B, I] and at most the emit h2 qualifies when
// its body is
//
//   h2 = tanh(a)   or   h2 = relu(a)        yield carry(h2) emit(h2)
//
// and the pre-activation a [B, H] is a sum of affine terms (passes/CellMatch.h): exactly one x
// term and one h term, biases anywhere (nn::RNN, a cell written by hand, [x, h] W). The weights
// and the summed bias are gathered before the loop.
//
// Refused: any other op in the body (a state used outside the cell, a second nonlinearity, a
// scaled h), an emit other than h2, several carries or sequences.
//
//===----------------------------------------------------------------------===//
#include "ir/Infer.h"
#include "passes/CellMatch.h"
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
  if (g->numCarry != 1 || g->numSeq != 1 || scan.numResults() > 2)
    return false;
  Value *xs = scan.operand(1);
  const ir::Type &st = xs->type(), &ht = scan.operand(0)->type();
  if (st.rank() != 3 || !ir::isFloat(st.dtype()) || ht.rank() != 2 || !ht.dim(1).isStatic() ||
      ht.dtype() != st.dtype())
    return false;
  const int64_t hidden = ht.dim(1).size();
  ir::Op *yield = body.back();
  Value *h2 = yield->operand(0);
  if (yield->numOperands() == 2 && yield->operand(1) != h2)
    return false;
  BodyMatcher m(body, body.arg(1), body.arg(0));
  bool relu = false;
  Value *a = m.unaryOperand(h2, OpKind::Tanh);
  if (!a) {
    a = m.unaryOperand(h2, OpKind::Relu);
    relu = a != nullptr;
  }
  std::vector<Term> ts;
  if (!a || !m.terms(a, 0, ts) || !BodyMatcher::oneEach(ts) || !m.matchedAll())
    return false;

  std::vector<Term> biases;
  for (const Term &t : ts)
    if (t.source == Source::Bias)
      biases.push_back(t);
  OperandBuilder ob(scan, hidden);
  const std::vector<Term> gate[] = {ts};
  auto wx = ob.gather(pick(gate, Source::Input));
  WEFT_TRY(wx.status());
  auto wh = ob.gather(pick(gate, Source::Hidden));
  WEFT_TRY(wh.status());
  const std::vector<Term> biasGate[] = {biases};
  auto bias = ob.gatherBias(biasGate, st.dtype());
  WEFT_TRY(bias.status());
  std::vector<Value *> operands = {xs, scan.operand(0), *wx, *wh, *bias};
  if (g->hasLengths)
    operands.push_back(scan.operands().back());
  ir::Attrs attrs;
  if (scan.reverse())
    attrs["reverse"] = int64_t{1};
  if (relu)
    attrs["relu"] = int64_t{1};
  auto fused = ob.builder().create(OpKind::RnnSequence, operands, attrs, {}, scan.loc());
  WEFT_TRY(fused.status());
  std::vector<std::pair<size_t, size_t>> from = {{0, 1}}; // hT
  if (scan.numResults() == 2)
    from.push_back({1, 0}); // hs
  const std::pair<Value *, const char *> names[] = {{*wx, "wx"}, {*wh, "wh"}, {*bias, "b"}};
  replaceScan(scan, **fused, from, names);
  return true;
}

class FuseRnnPass : public Pass {
public:
  std::string_view name() const override { return "fuse-rnn"; }
  Expected<bool> run(ir::Module &m) override { return rewriteEachScan(m, fuse); }
};

} // namespace

std::unique_ptr<Pass> createFuseRnnPass() { return std::make_unique<FuseRnnPass>(); }

} // namespace weft::passes
