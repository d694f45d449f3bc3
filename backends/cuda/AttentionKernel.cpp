//===- backends/cuda/AttentionKernel.cpp - attention with an online softmax -===//
//
// attention %q[..., Tq, d], %k[..., Tk, d], %v[..., Tk, dv] (, %mask) {scale, causal}: a block
// per query row, which never holds the row's Tq x Tk scores, only a tile of them:
//
//   for row = blockIdx; row < rows; row += gridDim:      // row = (b, i)
//     shared q = q[b, i, :];  m = -inf;  l = 0;  acc[0 .. dv) = 0      (shared, in double)
//     for j0 = 0; j0 < Tk; j0 += blockDim:               // a tile of keys
//       shared s[t] = scale q . k[b, j0 + t] + mask (-inf past the diagonal when causal)
//       __syncthreads()
//       m' = max(m, max s);  a = exp(m - m');  p[t] = exp(s[t] - m')   (every thread alike)
//       for c = threadIdx; c < dv; c += blockDim:        // threads own output channels
//         acc[c] = a acc[c] + sum_t p[t] v[b, j0 + t, c]
//       l = a l + sum_t p[t];  m = m'
//       __syncthreads()
//     o[b, i, c] = l > 0 ? acc[c] / l : 0                // a row of -inf scores is zeros
//
// Scores, exponentials and sums are in double, as the interpreter computes them; exp is
// Math.h's. Keys and values are read from global memory (the L1/L2 caches serve a tile's
// reuse); q, the score tile and the accumulators are in shared memory, so d + dv is bounded
// (kMaxAttentionDepth).
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Kernels.h"
#include "backends/cuda/Math.h"

#include <fmt/format.h>

#include <cmath>

namespace weft::cuda {

using llvm::Value;

Expected<llvm::Function *> emitAttentionKernel(llvm::Module &m, const std::string &name,
                                               KernelTarget target, DType t, int batchRank,
                                               bool hasMask, double scale, bool causal) {
  if (!isFloat(t))
    return err(fmt::format("attention is on floats, not {}", dtypeName(t)));
  const unsigned br = static_cast<unsigned>(batchRank);
  // Buffers: o, q, k, v, mask (o again when there is none). Scalars: rows, Tq, Tk, d, dv,
  // batch dims [br], the mask's batch strides [br], its query and key strides.
  detail::KernelEmitter k(m, name, target, 5, 5 + 2 * br + 2, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  llvm::Type *f64 = b.getDoubleTy(), *i64 = b.getInt64Ty(), *elem = k.storageTy(t);
  auto c = [&](double v) { return llvm::ConstantFP::get(f64, v); };
  auto widen = [&](Value *x) { return t == DType::F32 ? b.CreateFPExt(x, f64) : x; };
  Value *rows = k.scalar(0), *tq = k.scalar(1), *tk = k.scalar(2), *depth = k.scalar(3),
        *dv = k.scalar(4);
  std::vector<Value *> batchDims, maskStrides;
  for (unsigned a = 0; a < br; ++a) {
    batchDims.push_back(k.scalar(5 + a));
    maskStrides.push_back(k.scalar(5 + br + a));
  }
  Value *maskQ = k.scalar(5 + 2 * br), *maskK = k.scalar(6 + 2 * br);
  Value *o = k.buffer(0), *q = k.buffer(1), *keys = k.buffer(2), *values = k.buffer(3),
        *mask = k.buffer(4);
  // Shared: the score tile (kMaxBlockThreads doubles), then q (d), then acc (dv).
  Value *scores = k.shared(kMaxSharedBytes);
  Value *qRow = b.CreateConstInBoundsGEP1_64(f64, scores, kMaxBlockThreads);
  Value *acc = b.CreateInBoundsGEP(f64, qRow, depth);
  llvm::Function *exp = mathFunction(m, MathFn::Exp);
  Value *tid = k.tid(), *ntid = k.ntid();
  Value *mVar = k.variable(f64, c(-INFINITY), "m"), *lVar = k.variable(f64, c(0), "l");
  Value *sum = k.variable(f64, c(0), "sum");

  k.loop(k.ctaid(), rows, k.nctaid(), [&](Value *row) {
    Value *bIdx = b.CreateUDiv(row, tq), *i = b.CreateURem(row, tq);
    Value *maskRow =
        b.CreateAdd(k.stridedOffset(bIdx, batchDims, maskStrides), b.CreateMul(i, maskQ));
    k.loop(tid, depth, ntid, [&](Value *x) {
      k.store(widen(k.load(elem, q, b.CreateAdd(b.CreateMul(row, depth), x))), qRow, x);
    });
    k.loop(tid, dv, ntid, [&](Value *x) { k.store(c(0), acc, x); });
    b.CreateStore(c(-INFINITY), mVar);
    b.CreateStore(c(0), lVar);
    k.barrier();
    k.loop(k.i64(0), tk, ntid, [&](Value *j0) {
      Value *tile =
          b.CreateSelect(b.CreateICmpSLT(b.CreateSub(tk, j0), ntid), b.CreateSub(tk, j0), ntid);
      k.when(b.CreateICmpSLT(tid, tile), [&] {
        Value *j = b.CreateAdd(j0, tid);
        Value *keyRow = b.CreateMul(b.CreateAdd(b.CreateMul(bIdx, tk), j), depth);
        b.CreateStore(c(0), sum);
        k.loop(k.i64(0), depth, k.i64(1), [&](Value *x) {
          Value *p =
              b.CreateFMul(k.load(f64, qRow, x), widen(k.load(elem, keys, b.CreateAdd(keyRow, x))));
          b.CreateStore(b.CreateFAdd(b.CreateLoad(f64, sum), p), sum);
        });
        Value *s = b.CreateFMul(b.CreateLoad(f64, sum), c(scale));
        if (hasMask)
          s = b.CreateFAdd(s,
                           widen(k.load(elem, mask, b.CreateAdd(maskRow, b.CreateMul(j, maskK)))));
        if (causal)
          s = b.CreateSelect(b.CreateICmpSGT(j, i), c(-INFINITY), s);
        k.store(s, scores, tid);
      });
      k.barrier();
      // Every thread finds the tile's max and the rescaling alike.
      Value *mOld = b.CreateLoad(f64, mVar);
      Value *mNew = k.variable(f64, mOld);
      k.loop(k.i64(0), tile, k.i64(1), [&](Value *x) {
        Value *s = k.load(f64, scores, x), *cur = b.CreateLoad(f64, mNew);
        b.CreateStore(b.CreateSelect(b.CreateFCmpOGT(s, cur), s, cur), mNew);
      });
      Value *mx = b.CreateLoad(f64, mNew);
      Value *none = b.CreateFCmpOEQ(mx, c(-INFINITY)); // every score so far is -inf
      Value *alpha = b.CreateSelect(none, c(1), b.CreateCall(exp, {b.CreateFSub(mOld, mx)}));
      auto weight = [&](Value *x) {
        Value *s = k.load(f64, scores, x);
        return b.CreateSelect(none, c(0), b.CreateCall(exp, {b.CreateFSub(s, mx)}));
      };
      k.loop(tid, dv, ntid, [&](Value *ch) {
        b.CreateStore(b.CreateFMul(k.load(f64, acc, ch), alpha), sum);
        k.loop(k.i64(0), tile, k.i64(1), [&](Value *x) {
          Value *vRow = b.CreateAdd(b.CreateMul(bIdx, tk), b.CreateAdd(j0, x));
          Value *vv = widen(k.load(elem, values, b.CreateAdd(b.CreateMul(vRow, dv), ch)));
          b.CreateStore(b.CreateFAdd(b.CreateLoad(f64, sum), b.CreateFMul(weight(x), vv)), sum);
        });
        k.store(b.CreateLoad(f64, sum), acc, ch);
      });
      b.CreateStore(b.CreateFMul(b.CreateLoad(f64, lVar), alpha), sum);
      k.loop(k.i64(0), tile, k.i64(1), [&](Value *x) {
        b.CreateStore(b.CreateFAdd(b.CreateLoad(f64, sum), weight(x)), sum);
      });
      b.CreateStore(b.CreateLoad(f64, sum), lVar);
      b.CreateStore(mx, mVar);
      k.barrier();
    });
    Value *l = b.CreateLoad(f64, lVar);
    k.loop(tid, dv, ntid, [&](Value *ch) {
      Value *y =
          b.CreateSelect(b.CreateFCmpOGT(l, c(0)), b.CreateFDiv(k.load(f64, acc, ch), l), c(0));
      k.store(t == DType::F32 ? b.CreateFPTrunc(y, elem) : y, o,
              b.CreateAdd(b.CreateMul(row, dv), ch));
    });
    k.barrier(); // shared memory is the next row's
  });
  (void)i64;
  return k.finish();
}

} // namespace weft::cuda
