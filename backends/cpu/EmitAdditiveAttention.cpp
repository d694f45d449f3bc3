//===- backends/cpu/EmitAdditiveAttention.cpp - Bahdanau's attention, one pass ===//
//
//   %context[B,D], %weights[B,S] = additive_attention %qp[B,A], %kp[B,S,A], %v[A],
//                                                     %values[B,S,D] (, %mask[B,S])
//
// One task per chunk of batch rows (weft_parallel_for); per row b, one pass over the keys with
// an online softmax, the context accumulated in place:
//   m = -inf, l = 0, context[b] = 0
//   for j < S:
//     t[a] = v[a] tanh(kp[b,j,a] + qp[b,a])      a loop without a carried value: it vectorizes
//     s = sum_a t[a] (+ mask[b,j]);  weights[b,j] = s               (the raw score, for now)
//     m' = max(m, s), c = exp(m - m'), p = exp(s - m')               (0 for -inf)
//     context[b] = c context[b] + p values[b,j];  l = c l + p;  m = m'
//   context[b] /= l;  weights[b,j] = exp(weights[b,j] - m) / l       (zeros where l = 0)
// t is on the task's stack (A elements). Each row writes only its own rows of the results, so
// they do not depend on the thread count.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"

#include <limits>

namespace weft::cpu::detail {

using llvm::Value;

Status Emitter::emitAdditiveAttention(const ir::Op &op) {
  const DType dt = op.result(0)->type().dtype();
  const ir::Type &kt = op.operand(1)->type(), &vt = op.operand(3)->type();
  bool masked = op.numOperands() == 5;
  Values captured;
  for (ir::Value *x : op.operands())
    captured.push_back(ptr(x));
  for (size_t r = 0; r < 2; ++r) {
    ptrs[op.result(r)] = bufferOf(op.result(r));
    captured.push_back(ptrs[op.result(r)]);
  }
  Value *B = dim(kt.dim(0)), *S = dim(kt.dim(1)), *A = dim(kt.dim(2)), *D = dim(vt.dim(2));
  Value *work = b.CreateMul(b.CreateMul(B, S), b.CreateAdd(A, D));
  llvm::Type *elt = storageTy(dt);
  auto fc = [&](double x) { return llvm::ConstantFP::get(elt, x); };
  auto expOrZero = [&](Value *x) { // exp(x), exactly 0 at -inf
    Value *isNinf = b.CreateFCmpOEQ(x, fc(-std::numeric_limits<double>::infinity()));
    return b.CreateSelect(isNinf, fc(0), intrinsic(llvm::Intrinsic::exp, {x}));
  };
  parallelRows(B, work, captured, [&](const Values &in, Value *begin, Value *end) {
    size_t n = 0;
    Value *qp = in[n++], *kp = in[n++], *v = in[n++], *values = in[n++];
    Value *mask = masked ? in[n++] : nullptr;
    Value *context = in[n++], *weights = in[n++];
    Value *keys = dim(kt.dim(1)), *units = dim(kt.dim(2)), *depth = dim(vt.dim(2));
    Value *t = b.CreateAlloca(elt, units);
    Value *m = local(elt, fc(0)), *l = local(elt, fc(0));
    forLoop(b.CreateSub(end, begin), [&](Value *i) {
      Value *row = b.CreateAdd(begin, i);
      Value *q = gep(qp, dt, b.CreateMul(row, units));
      Value *ctx = gep(context, dt, b.CreateMul(row, depth));
      Value *w = gep(weights, dt, b.CreateMul(row, keys));
      forLoop(depth, [&](Value *d) { store(fc(0), ctx, dt, d); });
      b.CreateStore(fc(-std::numeric_limits<double>::infinity()), m);
      b.CreateStore(fc(0), l);
      forLoop(keys, [&](Value *j) {
        Value *key = b.CreateMul(b.CreateAdd(b.CreateMul(row, keys), j), units);
        Value *k = gep(kp, dt, key);
        forLoop(units, [&](Value *a) {
          Value *h = tanhOf(b.CreateFAdd(load(k, dt, a), load(q, dt, a)), dt);
          store(b.CreateFMul(load(v, dt, a), h), t, dt, a);
        });
        Value *s = accumulate(units, {fc(0)}, [&](Value *a, const Values &acc) {
          return Values{b.CreateFAdd(acc[0], load(t, dt, a))};
        })[0];
        if (mask)
          s = b.CreateFAdd(s, load(mask, dt, b.CreateAdd(b.CreateMul(row, keys), j)));
        store(s, w, dt, j);
        Value *mOld = b.CreateLoad(elt, m);
        Value *mNew = intrinsic(llvm::Intrinsic::maxnum, {mOld, s});
        Value *c =
            expOrZero(b.CreateSelect(b.CreateFCmpOEQ(mOld, mNew), fc(0), b.CreateFSub(mOld, mNew)));
        Value *p = expOrZero(b.CreateFSub(s, mNew));
        // -inf - -inf is NaN: a row with nothing seen yet keeps c = 1 (context is 0 anyway)
        // and p = 0.
        p = b.CreateSelect(b.CreateFCmpUNO(p, p), fc(0), p);
        Value *vals = gep(values, dt, b.CreateMul(b.CreateAdd(b.CreateMul(row, keys), j), depth));
        forLoop(depth, [&](Value *d) {
          Value *acc = b.CreateFMul(load(ctx, dt, d), c);
          store(intrinsic(llvm::Intrinsic::fmuladd, {p, load(vals, dt, d), acc}), ctx, dt, d);
        });
        b.CreateStore(intrinsic(llvm::Intrinsic::fmuladd, {b.CreateLoad(elt, l), c, p}), l);
        b.CreateStore(mNew, m);
      });
      Value *lv = b.CreateLoad(elt, l), *mv = b.CreateLoad(elt, m);
      Value *inv = b.CreateSelect(b.CreateFCmpOGT(lv, fc(0)), b.CreateFDiv(fc(1), lv), fc(0));
      forLoop(depth, [&](Value *d) { store(b.CreateFMul(load(ctx, dt, d), inv), ctx, dt, d); });
      forLoop(keys, [&](Value *j) {
        Value *p = expOrZero(b.CreateFSub(load(w, dt, j), mv));
        p = b.CreateSelect(b.CreateFCmpUNO(p, p), fc(0), p);
        store(b.CreateFMul(p, inv), w, dt, j);
      });
    });
  });
  return {};
}

} // namespace weft::cpu::detail
