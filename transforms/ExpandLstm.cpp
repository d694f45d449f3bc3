//===- transforms/ExpandLstm.cpp - lstm_sequence as a scan of primitives --===//
//
//   %hs, %hT, %cT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b [, %len] {reverse}
//
// becomes the input projection as one GEMM over all steps and a scan that keeps the recurrent
// GEMM and the cell:
//
//   %p  = reshape(matmul(reshape(%xs, [T*B, I]), %wx), [T, B, 4H]) + broadcast(%b)
//   %hT, %cT, %hs = scan carry(%h0, %c0) over(%p) [lengths(%len)] {reverse} {
//   ^body(%h, %c, %pt):
//     %z = matmul(%h, %wh) + %pt;  i, f, g, o = column blocks of %z
//     %c2 = sigmoid(f) * %c + sigmoid(i) * tanh(g);  %h2 = sigmoid(o) * tanh(%c2)
//     yield %h2, %c2, %h2
//   }
//
// The training form ({save_gates}) emits concat(i, f, g, o) and %c2 too: its gates and cs.
//
//===----------------------------------------------------------------------===//
#include "transforms/ExpandLstm.h"

#include "ir/Builder.h"
#include "ir/Uses.h"
#include "ir/Walk.h"

#include <string>

namespace weft::transforms {
namespace {

using ir::OpKind;
using ir::Value;

/// Builds the cell step in `body` (arguments %h, %c, %pt) and its yield; `save`: the activated
/// gates and c are emitted too.
Status buildStep(ir::OpBuilder &b, ir::Block &body, Value *wh, int64_t hid, bool save, Loc loc) {
  Value *h = body.arg(0), *c = body.arg(1), *pt = body.arg(2);
  auto rec = b.create1(OpKind::Matmul, {h, wh}, {}, {}, loc);
  WEFT_TRY(rec.status());
  auto z = b.create1(OpKind::Add, {*rec, pt}, {}, {}, loc);
  WEFT_TRY(z.status());
  (*z)->setName("z");
  Value *gate[4];
  const OpKind act[4] = {OpKind::Sigmoid, OpKind::Sigmoid, OpKind::Tanh, OpKind::Sigmoid};
  for (int64_t k = 0; k < 4; ++k) {
    auto s =
        b.create1(OpKind::Slice, {*z},
                  {{"axis", int64_t{1}}, {"start", k * hid}, {"limit", (k + 1) * hid}}, {}, loc);
    WEFT_TRY(s.status());
    auto a = b.create1(act[k], {*s}, {}, {}, loc);
    WEFT_TRY(a.status());
    (*a)->setName(std::string(1, "ifgo"[k]));
    gate[k] = *a;
  }
  auto fc = b.create1(OpKind::Mul, {gate[1], c}, {}, {}, loc);
  WEFT_TRY(fc.status());
  auto ig = b.create1(OpKind::Mul, {gate[0], gate[2]}, {}, {}, loc);
  WEFT_TRY(ig.status());
  auto c2 = b.create1(OpKind::Add, {*fc, *ig}, {}, {}, loc);
  WEFT_TRY(c2.status());
  (*c2)->setName("c2");
  auto tc = b.create1(OpKind::Tanh, {*c2}, {}, {}, loc);
  WEFT_TRY(tc.status());
  auto h2 = b.create1(OpKind::Mul, {gate[3], *tc}, {}, {}, loc);
  WEFT_TRY(h2.status());
  (*h2)->setName("h2");
  std::vector<Value *> yielded = {*h2, *c2, *h2};
  if (save) {
    auto gates = b.create1(OpKind::Concat, {gate[0], gate[1], gate[2], gate[3]},
                           {{"axis", int64_t{1}}}, {}, loc);
    WEFT_TRY(gates.status());
    yielded.push_back(*gates);
    yielded.push_back(*c2);
  }
  return b.create(OpKind::Yield, yielded, {}, {}, loc).status();
}

/// Replaces one lstm_sequence by its expansion.
Status expand(ir::Op &op) {
  Loc loc = op.loc();
  Value *xs = op.operand(0), *h0 = op.operand(1), *c0 = op.operand(2), *wx = op.operand(3),
        *wh = op.operand(4), *bias = op.operand(5);
  const ir::Type &xt = xs->type();
  const int64_t hid = h0->type().dim(1).size();
  ir::OpBuilder b(*op.parentBlock());
  b.setInsertionPointBefore(&op);
  ir::Type flatType({xt.dim(0) * xt.dim(1), xt.dim(2)}, xt.dtype());
  auto flat = b.create1(OpKind::Reshape, {xs}, {}, {flatType}, loc);
  WEFT_TRY(flat.status());
  auto gemm = b.create1(OpKind::Matmul, {*flat, wx}, {}, {}, loc);
  WEFT_TRY(gemm.status());
  ir::Type projType({xt.dim(0), xt.dim(1), ir::Dim(4 * hid)}, xt.dtype());
  auto proj = b.create1(OpKind::Reshape, {*gemm}, {}, {projType}, loc);
  WEFT_TRY(proj.status());
  auto bb =
      b.create1(OpKind::Broadcast, {bias}, {{"dims", std::vector<int64_t>{2}}}, {projType}, loc);
  WEFT_TRY(bb.status());
  auto p = b.create1(OpKind::Add, {*proj, *bb}, {}, {}, loc);
  WEFT_TRY(p.status());
  (*p)->setName("xw_all");

  std::vector<Value *> operands = {h0, c0, *p};
  if (op.numOperands() == 7)
    operands.push_back(op.operand(6));
  ir::Attrs attrs = {{"num_carry", int64_t{2}}, {"num_seq", int64_t{1}}};
  if (op.reverse())
    attrs["reverse"] = int64_t{1};
  auto scan = b.beginRegionOp(OpKind::Scan, operands, attrs, loc);
  WEFT_TRY(scan.status());
  ir::Block &body = (*scan)->region();
  const char *argNames[] = {"h", "c", "xw"};
  for (size_t a = 0; a < body.numArgs(); ++a)
    body.arg(a)->setName(argNames[a]);
  ir::OpBuilder inner(body);
  WEFT_TRY(buildStep(inner, body, wh, hid, op.saveGates(), loc));
  WEFT_TRY(b.finishRegionOp(*scan));

  ir::Uses uses(*op.parentBlock());
  // hs, hT, cT (gates, cs) are the scan's results 2, 0, 1 (3, 4)
  const size_t from[5] = {2, 0, 1, 3, 4};
  for (size_t r = 0; r < op.numResults(); ++r) {
    (*scan)->result(from[r])->setName(op.result(r)->name());
    uses.replaceAllUsesWith(op.result(r), (*scan)->result(from[r]));
  }
  uses.erase(op);
  return {};
}

} // namespace

Status expandLstmSequence(ir::Op &op) { return expand(op); }

bool hasLstmSequence(const ir::Module &m) {
  bool found = false;
  for (const auto &f : m.functions())
    ir::walk(const_cast<ir::Block &>(f->body()),
             [&](ir::Op &op) { found |= op.kind() == OpKind::LstmSequence; });
  return found;
}

Expected<bool> expandLstmSequences(ir::Block &block) {
  std::vector<ir::Op *> ops;
  ir::walk(block, [&](ir::Op &op) {
    if (op.kind() == OpKind::LstmSequence)
      ops.push_back(&op);
  });
  for (ir::Op *op : ops)
    WEFT_TRY(expand(*op));
  return !ops.empty();
}

} // namespace weft::transforms
