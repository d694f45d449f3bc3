//===- passes/autodiff/AdditiveAttentionVJP.cpp - the VJP of additive_attention ===//
//
// In primitives, from the op's weights w (a result: nothing more is stored) and tanh recomputed
// from qp and kp; g_c [B,D] and g_w [B,S] are the adjoints of context and weights:
//
//   dvalues[b,j]   = w[b,j] g_c[b]
//   gw[b,j]        = g_w[b,j] + values[b,j] . g_c[b]           the weights' whole adjoint
//   ds[b,j]        = w[b,j] (gw[b,j] - sum_j' w[b,j'] gw[b,j'])  softmax; also dmask
//   h[b,j]         = tanh(kp[b,j] + qp[b])                      [B,S,A]
//   dpre[b,j,a]    = ds[b,j] v[a] (1 - h[b,j,a]^2)
//   dkp = dpre,  dqp[b] = sum_j dpre[b,j],  dv = sum_{b,j} ds[b,j] h[b,j]
//
// Masked keys (-inf) have w = 0, hence ds = 0: no gradient flows to or through them.
//
//===----------------------------------------------------------------------===//
#include "passes/autodiff/Emit.h"
#include "passes/autodiff/VJP.h"

namespace weft::autodiff {

using ir::OpKind;
using ir::Value;

Expected<std::vector<Value *>> vjpAdditiveAttention(ir::OpBuilder &b, ir::Op &op,
                                                    const std::vector<Value *> &resultAdjoints,
                                                    const std::vector<bool> &want) {
  Emit e(b, op.loc());
  std::vector<Value *> grads(op.numOperands(), nullptr);
  Value *gc = resultAdjoints.size() > 0 ? resultAdjoints[0] : nullptr;
  Value *gw = resultAdjoints.size() > 1 ? resultAdjoints[1] : nullptr;
  if (!gc && !gw)
    return grads;
  Value *qp = op.operand(0), *kp = op.operand(1), *v = op.operand(2), *values = op.operand(3);
  Value *w = op.result(1);
  const ir::Type &vt = values->type(), &kt = kp->type(), &wt = w->type();
  if (gc) {
    Value *gcRows = e.broadcast(gc, {0, 2}, vt);
    if (want[3])
      grads[3] = e.mul(e.broadcast(w, {0, 1}, vt), gcRows);
    Value *fromContext = e.reduceSum(e.mul(values, gcRows), {2});
    gw = gw ? e.add(gw, fromContext) : fromContext;
  }
  bool needScores = want[0] || want[1] || want[2] || (op.numOperands() == 5 && want[4]);
  if (!needScores)
    return grads;
  Value *rowDot = e.reduceSum(e.mul(w, gw), {1});
  Value *ds = e.mul(w, e.sub(gw, e.broadcast(rowDot, {0}, wt)));
  if (op.numOperands() == 5 && want[4])
    grads[4] = ds;
  Value *h = e.op(OpKind::Tanh, {e.add(kp, e.broadcast(qp, {0, 2}, kt))});
  Value *dsUnits = e.broadcast(ds, {0, 1}, kt);
  if (want[2])
    grads[2] = e.reduceSum(e.mul(dsUnits, h), {0, 1});
  if (!want[0] && !want[1])
    return grads;
  Value *dpre =
      e.mul(e.mul(dsUnits, e.broadcast(v, {2}, kt)), e.sub(e.splatLike(h, 1.0), e.mul(h, h)));
  if (want[1])
    grads[1] = dpre;
  if (want[0])
    grads[0] = e.reduceSum(dpre, {1});
  return grads;
}

} // namespace weft::autodiff
