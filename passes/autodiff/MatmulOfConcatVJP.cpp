//===- passes/autodiff/MatmulOfConcatVJP.cpp - dA for only the active pieces ===//
//
// z = [a_1, ..., a_n] . B, with the pieces concatenated along A's last axis,
// is z = sum_i a_i . B_i where B_i are the rows of B that meet a_i. So
//
//   d a_i = dz . B_i^T
//
// and a piece that carries no gradient (an LSTM step's input x_t when only the
// weights are differentiated) costs nothing, where dA = dz . B^T would compute
// all of [dx_t, dh_t] and slice off dx_t afterwards. Each element of d a_i is
// the same dot product over the same columns as in dz . B^T, so the result is
// the same to the bit on a backend that sums a dot product in one order.
//
//===----------------------------------------------------------------------===//
#include "passes/autodiff/Emit.h"
#include "passes/autodiff/VJP.h"

#include <algorithm>

namespace weft::autodiff {

using ir::OpKind;
using ir::Value;

namespace {

/// The concat along the last axis that defines `a`, when its pieces have static widths.
ir::Op *lastAxisConcat(Value *a) {
  ir::Op *cat = a->definingOp();
  if (!cat || cat->kind() != OpKind::Concat)
    return nullptr;
  if (cat->intAttr("axis") != a->type().rank() - 1)
    return nullptr;
  for (Value *piece : cat->operands())
    if (!piece->type().dim(piece->type().rank() - 1).isStatic())
      return nullptr;
  return cat;
}

} // namespace

Expected<bool> vjpMatmulOfConcat(ir::OpBuilder &b, ir::Op &matmul, Adjoints &adj) {
  Value *a = matmul.operand(0), *bm = matmul.operand(1);
  Value *g = adj.get(matmul.result());
  if (!g || !adj.isActive(a) || a->type().rank() < 2 || bm->type().rank() < 2)
    return false;
  ir::Op *cat = lastAxisConcat(a);
  if (!cat)
    return false;
  std::vector<Value *> pieces = cat->operands();
  if (std::all_of(pieces.begin(), pieces.end(), [&](Value *p) { return adj.isActive(p); }))
    return false; // every piece needs its gradient: one dA = dz . B^T is cheaper

  if (adj.isActive(bm)) { // dB = A^T dz, by the ordinary rule
    auto grads = vjpOp(b, matmul, {g}, {false, true});
    WEFT_TRY(grads.status());
    WEFT_TRY(adj.accumulate(b, bm, (*grads)[1]));
  }
  Emit e(b, matmul.loc());
  int64_t rowAxis = bm->type().rank() - 2;
  std::vector<int64_t> perm(bm->type().rank());
  for (size_t i = 0; i < perm.size(); ++i)
    perm[i] = static_cast<int64_t>(i);
  std::swap(perm[rowAxis], perm[rowAxis + 1]);
  int64_t offset = 0;
  for (Value *piece : pieces) {
    int64_t width = piece->type().dim(piece->type().rank() - 1).size();
    if (adj.isActive(piece)) {
      Value *rows = e.slice(bm, rowAxis, offset, offset + width);
      WEFT_TRY(adj.accumulate(b, piece, e.op(OpKind::Matmul, {g, e.transpose(rows, perm)})));
    }
    offset += width;
  }
  return true;
}

} // namespace weft::autodiff
