//===- backends/cuda/AdditiveAttentionKernel.cpp - Bahdanau's (or Luong's) attention -===//
//
// additive_attention %qp[B,A], %kp[B,S,A], %v[A], %values[B,S,D] (, %mask[B,S])
//   -> %context[B,D], %weights[B,S]: a block per batch row, its threads striding over the
// row's keys, then over its channels, meeting in shared memory for the max and the sum:
//
//   for b = blockIdx; b < B; b += gridDim:
//     for j = threadIdx; j < S; j += blockDim:            // scores, kept in weights[b]
//       s = sum_a v[a] tanh(kp[b, j, a] + qp[b, a]) + mask[b, j];  weights[b, j] = s
//         (Luong: s = v[0] sum_a qp[b, a] kp[b, j, a] + mask[b, j])
//       mine = max(mine, s)
//     shared[threadIdx] = mine; __syncthreads(); top = max(shared); __syncthreads()
//     for j (as above): e = exp(weights[b, j] - top) (0 if top = -inf); weights[b, j] = e
//       mine += e
//     shared[threadIdx] = mine; __syncthreads(); sum = sum(shared); __syncthreads()
//     for j (as above): weights[b, j] /= sum                 (0 if top = -inf)
//     __syncthreads()                                      // the row's weights, for all
//     for d = threadIdx; d < D; d += blockDim:
//       context[b, d] = sum_j weights[b, j] values[b, j, d]
//
// In double, like the interpreter, with Math.h's tanh and exp; an f32 row's scores and
// exponentials round to f32 where they wait in `weights`. A row whose scores are all -inf
// (or that has no keys) has zero weights and a zero context.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Kernels.h"
#include "backends/cuda/Math.h"

#include <fmt/format.h>

#include <cmath>

namespace weft::cuda {

using llvm::Value;

Expected<llvm::Function *> emitAdditiveAttentionKernel(llvm::Module &m, const std::string &name,
                                                       KernelTarget target, DType t, bool hasMask,
                                                       AttentionScore score) {
  if (!isFloat(t))
    return err(fmt::format("additive_attention is on floats, not {}", dtypeName(t)));
  // Buffers: context, weights, qp, kp, v, values, mask (context again when there is none).
  // Scalars: B, S, A, D.
  const bool luong = score == AttentionScore::Luong;
  detail::KernelEmitter k(m, name, target, 7, 4, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  llvm::Type *f64 = b.getDoubleTy(), *elem = k.storageTy(t);
  auto c = [&](double v) { return llvm::ConstantFP::get(f64, v); };
  auto widen = [&](Value *x) { return t == DType::F32 ? b.CreateFPExt(x, f64) : x; };
  auto narrow = [&](Value *x) { return t == DType::F32 ? b.CreateFPTrunc(x, elem) : x; };
  Value *context = k.buffer(0), *weights = k.buffer(1), *qp = k.buffer(2), *kp = k.buffer(3),
        *v = k.buffer(4), *values = k.buffer(5), *mask = k.buffer(6);
  Value *batch = k.scalar(0), *keys = k.scalar(1), *depth = k.scalar(2), *width = k.scalar(3);
  Value *shared = k.shared(kMaxBlockThreads * sizeof(double));
  llvm::Function *tanh = mathFunction(m, MathFn::Tanh), *exp = mathFunction(m, MathFn::Exp);
  Value *tid = k.tid(), *ntid = k.ntid();
  Value *mine = k.variable(f64, c(0), "mine"), *acc = k.variable(f64, c(0), "acc");
  Value *top = k.variable(f64, c(0), "top"), *sum = k.variable(f64, c(0), "sum");

  /// Every thread's `mine` into shared memory, and into `into` the fold of all of them.
  auto blockReduce = [&](Value *into, bool max) {
    k.store(b.CreateLoad(f64, mine), shared, tid);
    k.barrier();
    b.CreateStore(c(max ? -INFINITY : 0.0), into);
    k.loop(k.i64(0), ntid, k.i64(1), [&](Value *x) {
      Value *s = k.load(f64, shared, x), *cur = b.CreateLoad(f64, into);
      b.CreateStore(max ? b.CreateSelect(b.CreateFCmpOGT(s, cur), s, cur) : b.CreateFAdd(cur, s),
                    into);
    });
    k.barrier(); // shared memory is free again
  };

  k.loop(k.ctaid(), batch, k.nctaid(), [&](Value *row) {
    Value *wRow = b.CreateMul(row, keys);
    b.CreateStore(c(-INFINITY), mine);
    k.loop(tid, keys, ntid, [&](Value *j) {
      Value *kRow = b.CreateMul(b.CreateAdd(wRow, j), depth);
      b.CreateStore(c(0), acc);
      k.loop(k.i64(0), depth, k.i64(1), [&](Value *a) {
        Value *key = widen(k.load(elem, kp, b.CreateAdd(kRow, a)));
        Value *query = widen(k.load(elem, qp, b.CreateAdd(b.CreateMul(row, depth), a)));
        Value *term = luong ? b.CreateFMul(query, key)
                            : b.CreateFMul(widen(k.load(elem, v, a)),
                                           b.CreateCall(tanh, {b.CreateFAdd(key, query)}));
        b.CreateStore(b.CreateFAdd(b.CreateLoad(f64, acc), term), acc);
      });
      Value *s = b.CreateLoad(f64, acc);
      if (luong) // times the scale g
        s = b.CreateFMul(s, widen(k.load(elem, v, k.i64(0))));
      if (hasMask)
        s = b.CreateFAdd(s, widen(k.load(elem, mask, b.CreateAdd(wRow, j))));
      k.store(narrow(s), weights, b.CreateAdd(wRow, j));
      Value *cur = b.CreateLoad(f64, mine);
      b.CreateStore(b.CreateSelect(b.CreateFCmpOGT(s, cur), s, cur), mine);
    });
    blockReduce(top, /*max=*/true);
    Value *best = b.CreateLoad(f64, top);
    Value *none = b.CreateFCmpOEQ(best, c(-INFINITY)); // no key to attend to
    b.CreateStore(c(0), mine);
    k.loop(tid, keys, ntid, [&](Value *j) {
      Value *at = b.CreateAdd(wRow, j);
      Value *s = widen(k.load(elem, weights, at));
      Value *e = b.CreateSelect(none, c(0), b.CreateCall(exp, {b.CreateFSub(s, best)}));
      k.store(narrow(e), weights, at);
      b.CreateStore(b.CreateFAdd(b.CreateLoad(f64, mine), e), mine);
    });
    blockReduce(sum, /*max=*/false);
    Value *total = b.CreateLoad(f64, sum);
    k.loop(tid, keys, ntid, [&](Value *j) {
      Value *at = b.CreateAdd(wRow, j);
      Value *w = b.CreateFDiv(widen(k.load(elem, weights, at)), total);
      k.store(narrow(b.CreateSelect(none, c(0), w)), weights, at);
    });
    k.barrier(); // every weight of the row is written
    k.loop(tid, width, ntid, [&](Value *d) {
      b.CreateStore(c(0), acc);
      k.loop(k.i64(0), keys, k.i64(1), [&](Value *j) {
        Value *w = widen(k.load(elem, weights, b.CreateAdd(wRow, j)));
        Value *x =
            widen(k.load(elem, values, b.CreateAdd(b.CreateMul(b.CreateAdd(wRow, j), width), d)));
        b.CreateStore(b.CreateFAdd(b.CreateLoad(f64, acc), b.CreateFMul(w, x)), acc);
      });
      k.store(narrow(b.CreateLoad(f64, acc)), context, b.CreateAdd(b.CreateMul(row, width), d));
    });
    k.barrier(); // the next row reuses the weights' loads' cache lines and shared memory
  });
  return k.finish();
}

} // namespace weft::cuda
