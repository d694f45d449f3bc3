//===- transforms/ExpandGruRnn.cpp - gru_sequence, rnn_sequence as scans ---===//
//
// Both become the input projection as one GEMM over all steps and a scan that keeps the
// recurrent GEMM and the cell (xs [T,B,I]; p [T,B,G*H]):
//
//   %p = reshape(matmul(reshape(%xs, [T*B, I]), %wx), [T, B, G*H]) + broadcast(bias)
//   %hT, %hs = scan carry(%h0) over(%p) [lengths(%len)] {reverse} {
//   ^body(%h, %xw):
//     rnn_sequence:  %h2 = tanh(matmul(%h, %wh) + %xw)                  (relu with relu = 1)
//     gru_sequence {linear_before_reset = 1}, bias = bx:
//       %hw = matmul(%h, %wh) + broadcast(%bh);  r, z, n column blocks of %xw and %hw
//       r = sigmoid(xw_r + hw_r);  z = sigmoid(xw_z + hw_z);  n = tanh(xw_n + r * hw_n)
//     gru_sequence {linear_before_reset = 0}, bias = bx + bh:
//       %hrz = matmul(%h, wh[:, :2H]);  r = sigmoid(xw_r + hrz_r);  z = sigmoid(xw_z + hrz_z)
//       n = tanh(xw_n + matmul(r * %h, wh[:, 2H:]))           (the two slices before the loop)
//     %h2 = n + z * (%h - n)                                   (= (1 - z) * n + z * h)
//     yield %h2, %h2
//   }
//
// gru_sequence's training form ({save_gates}) yields its gates too: concat(r, z, n) (PyTorch's
// form: concat(r, z, n, hw_n)), which the scan emits as zero on padded steps.
//
//===----------------------------------------------------------------------===//
#include "transforms/ExpandGruRnn.h"

#include "ir/Builder.h"
#include "ir/Uses.h"
#include "ir/Walk.h"

namespace weft::transforms {
namespace {

using ir::OpKind;
using ir::Value;

/// Builds ops at one insertion point; the first failure sticks and later calls return
/// nullptr, so a sequence of ops needs one check at its end.
class Emit {
public:
  Emit(ir::OpBuilder &b, Loc loc) : b_(b), loc_(std::move(loc)) {}

  Value *op(OpKind kind, std::vector<Value *> operands, ir::Attrs attrs = {},
            std::vector<ir::Type> declared = {}) {
    for (Value *v : operands)
      if (!v)
        return nullptr;
    if (!status_.isOk())
      return nullptr;
    auto r = b_.create1(kind, std::move(operands), std::move(attrs), std::move(declared), loc_);
    if (!r) {
      status_ = r.status();
      return nullptr;
    }
    return *r;
  }
  Value *slice(Value *v, int64_t axis, int64_t start, int64_t limit) {
    return op(OpKind::Slice, {v}, {{"axis", axis}, {"start", start}, {"limit", limit}});
  }
  Value *named(Value *v, const char *name) {
    if (v)
      v->setName(name);
    return v;
  }
  const Status &status() const { return status_; }

private:
  ir::OpBuilder &b_;
  Loc loc_;
  Status status_;
};

/// The GRU cell in `body` (arguments %h, %xw) and its yield.
/// `save`: the gates are yielded too.
Status buildGruStep(ir::OpBuilder &b, ir::Block &body, Value *wh, Value *bh, Value *whRz,
                    Value *whN, int64_t hid, bool linearBeforeReset, bool save, Loc loc) {
  Emit e(b, loc);
  Value *h = body.arg(0), *xw = body.arg(1);
  Value *r = nullptr, *z = nullptr, *n = nullptr, *hwN = nullptr;
  Value *xr = e.slice(xw, 1, 0, hid), *xz = e.slice(xw, 1, hid, 2 * hid),
        *xn = e.slice(xw, 1, 2 * hid, 3 * hid);
  if (linearBeforeReset) {
    Value *mm = e.op(OpKind::Matmul, {h, wh});
    Value *bb = e.op(OpKind::Broadcast, {bh}, {{"dims", std::vector<int64_t>{1}}},
                     {mm ? mm->type() : ir::Type()});
    Value *hw = e.named(e.op(OpKind::Add, {mm, bb}), "hw");
    r = e.op(OpKind::Sigmoid, {e.op(OpKind::Add, {xr, e.slice(hw, 1, 0, hid)})});
    z = e.op(OpKind::Sigmoid, {e.op(OpKind::Add, {xz, e.slice(hw, 1, hid, 2 * hid)})});
    hwN = e.slice(hw, 1, 2 * hid, 3 * hid);
    Value *rn = e.op(OpKind::Mul, {r, hwN});
    n = e.op(OpKind::Tanh, {e.op(OpKind::Add, {xn, rn})});
  } else {
    Value *hrz = e.named(e.op(OpKind::Matmul, {h, whRz}), "hrz");
    r = e.op(OpKind::Sigmoid, {e.op(OpKind::Add, {xr, e.slice(hrz, 1, 0, hid)})});
    z = e.op(OpKind::Sigmoid, {e.op(OpKind::Add, {xz, e.slice(hrz, 1, hid, 2 * hid)})});
    Value *rh = e.named(e.op(OpKind::Mul, {r, h}), "rh");
    n = e.op(OpKind::Tanh, {e.op(OpKind::Add, {xn, e.op(OpKind::Matmul, {rh, whN})})});
  }
  e.named(r, "r");
  e.named(z, "z");
  e.named(n, "n");
  Value *d = e.op(OpKind::Sub, {h, n});
  Value *h2 = e.named(e.op(OpKind::Add, {n, e.op(OpKind::Mul, {z, d})}), "h2");
  std::vector<Value *> yielded = {h2, h2};
  if (save) {
    std::vector<Value *> parts = {r, z, n};
    if (hwN)
      parts.push_back(hwN);
    yielded.push_back(e.named(e.op(OpKind::Concat, parts, {{"axis", int64_t{1}}}), "gates"));
  }
  WEFT_TRY(e.status());
  return b.create(OpKind::Yield, yielded, {}, {}, loc).status();
}

/// The RNN cell in `body` (arguments %h, %xw) and its yield.
Status buildRnnStep(ir::OpBuilder &b, ir::Block &body, Value *wh, bool relu, Loc loc) {
  Emit e(b, loc);
  Value *h = body.arg(0), *xw = body.arg(1);
  Value *a = e.named(e.op(OpKind::Add, {e.op(OpKind::Matmul, {h, wh}), xw}), "a");
  Value *h2 = e.named(e.op(relu ? OpKind::Relu : OpKind::Tanh, {a}), "h2");
  WEFT_TRY(e.status());
  return b.create(OpKind::Yield, {h2, h2}, {}, {}, loc).status();
}

/// Replaces one gru_sequence or rnn_sequence by its expansion.
Status expand(ir::Op &op) {
  const bool gru = op.kind() == OpKind::GruSequence;
  const size_t base = gru ? 6 : 5;
  Loc loc = op.loc();
  Value *xs = op.operand(0), *h0 = op.operand(1), *wx = op.operand(2), *wh = op.operand(3),
        *bx = op.operand(4), *bh = gru ? op.operand(5) : nullptr;
  const ir::Type &xt = xs->type();
  const int64_t hid = h0->type().dim(1).size(), width = (gru ? 3 : 1) * hid;
  const bool lbr = gru && op.linearBeforeReset();
  ir::OpBuilder b(*op.parentBlock());
  b.setInsertionPointBefore(&op);
  Emit e(b, loc);
  ir::Type flatType({xt.dim(0) * xt.dim(1), xt.dim(2)}, xt.dtype());
  ir::Type projType({xt.dim(0), xt.dim(1), ir::Dim(width)}, xt.dtype());
  Value *gemm = e.op(OpKind::Matmul, {e.op(OpKind::Reshape, {xs}, {}, {flatType}), wx});
  Value *proj = e.op(OpKind::Reshape, {gemm}, {}, {projType});
  // Cho's form adds bh outside r, so all of it joins the input bias before the loop.
  Value *bias = gru && !lbr ? e.op(OpKind::Add, {bx, bh}) : bx;
  Value *bb = e.op(OpKind::Broadcast, {bias}, {{"dims", std::vector<int64_t>{2}}}, {projType});
  Value *p = e.named(e.op(OpKind::Add, {proj, bb}), "xw_all");
  Value *whRz = nullptr, *whN = nullptr;
  if (gru && !lbr) {
    whRz = e.named(e.slice(wh, 1, 0, 2 * hid), "wh_rz");
    whN = e.named(e.slice(wh, 1, 2 * hid, 3 * hid), "wh_n");
  }
  WEFT_TRY(e.status());

  std::vector<Value *> operands = {h0, p};
  if (op.numOperands() == base + 1)
    operands.push_back(op.operand(base));
  ir::Attrs attrs = {{"num_carry", int64_t{1}}, {"num_seq", int64_t{1}}};
  if (op.reverse())
    attrs["reverse"] = int64_t{1};
  auto scan = b.beginRegionOp(OpKind::Scan, operands, attrs, loc);
  WEFT_TRY(scan.status());
  ir::Block &body = (*scan)->region();
  body.arg(0)->setName("h");
  body.arg(1)->setName("xw");
  ir::OpBuilder inner(body);
  if (gru)
    WEFT_TRY(buildGruStep(inner, body, wh, bh, whRz, whN, hid, lbr, op.saveGates(), loc));
  else
    WEFT_TRY(buildRnnStep(inner, body, wh, op.relu(), loc));
  WEFT_TRY(b.finishRegionOp(*scan));

  ir::Uses uses(*op.parentBlock());
  const size_t from[3] = {1, 0, 2}; // hs, hT (gates) are the scan's results 1, 0 (2)
  for (size_t r = 0; r < op.numResults(); ++r) {
    (*scan)->result(from[r])->setName(op.result(r)->name());
    uses.replaceAllUsesWith(op.result(r), (*scan)->result(from[r]));
  }
  uses.erase(op);
  return {};
}

} // namespace

Expected<bool> expandGruRnnSequences(ir::Block &block, ir::OpKind kind) {
  WEFT_CHECK(kind == OpKind::GruSequence || kind == OpKind::RnnSequence,
             "expandGruRnnSequences: not a gru_sequence or rnn_sequence kind");
  std::vector<ir::Op *> ops;
  ir::walk(block, [&](ir::Op &op) {
    if (op.kind() == kind)
      ops.push_back(&op);
  });
  for (ir::Op *op : ops)
    WEFT_TRY(expand(*op));
  return !ops.empty();
}

Expected<bool> expandGruRnnSequences(ir::Block &block) {
  auto gru = expandGruRnnSequences(block, OpKind::GruSequence);
  WEFT_TRY(gru.status());
  auto rnn = expandGruRnnSequences(block, OpKind::RnnSequence);
  WEFT_TRY(rnn.status());
  return *gru || *rnn;
}

} // namespace weft::transforms
