//===- backends/cuda/AttentionGradKernel.cpp - FlashAttention-2's backward -===//
//
// attention_grad %q[..., Tq, d], %k[..., Tk, d], %v[..., Tk, dv], %o, %do (, %mask) as three
// kernels that never hold the Tq x Tk scores, only tiles of them (FlashAttention-2's backward,
// with eval/Attention.cpp's formulas):
//
//   stats   a block per query row (b, i):  m_i = max_j s[i, j],  l_i = sum_j exp(s[i, j] - m_i)
//           (online, over tiles of blockDim keys),  D_i = do[i] . o[i]
//   dk, dv  a block per key row (b, j), over tiles of blockDim queries:
//             thread t:  p = exp(s[i, j] - m_i) / l_i,  ds = p (do[i] . v[j] - D_i)   (shared)
//             channels:  dk[j] += sum_t ds q[i],  dv[j] += sum_t p do[i]
//           dk[j] = scale dk[j]
//   dq      a block per query row (b, i), over tiles of blockDim keys:
//             thread t:  ds as above for key j = j0 + t                               (shared)
//             channels:  dq[i] += sum_t ds k[j];   dq[i] = scale dq[i]
//
// where s[i, j] = scale q[i] . k[j] + mask[i, j], -inf past the diagonal when causal, and a row
// whose scores are all -inf has p = 0. Every element of dq, dk and dv is written by one block,
// which sums in a fixed order: no atomics, the same bits on every run. Scores, exponentials and
// sums are in double, as the interpreter computes them.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/GradKernels.h"
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Math.h"

#include <fmt/format.h>

#include <cmath>

namespace weft::cuda {
namespace {

using detail::KernelEmitter;
using llvm::Value;

/// The scalars every kernel of this file takes after its buffers, and the score of a
/// query-key pair.
class AttentionShape {
public:
  AttentionShape(KernelEmitter &k, DType t, int batchRank, bool hasMask, double scale, bool causal)
      : k(k), b(k.b), t(t), hasMask(hasMask), scale(scale), causal(causal) {
    const auto br = static_cast<unsigned>(batchRank);
    rows = k.scalar(0);
    tq = k.scalar(1);
    tk = k.scalar(2);
    depth = k.scalar(3);
    dv = k.scalar(4);
    for (unsigned a = 0; a < br; ++a) {
      batchDims.push_back(k.scalar(5 + a));
      maskStrides.push_back(k.scalar(5 + br + a));
    }
    maskQ = k.scalar(5 + 2 * br);
    maskK = k.scalar(6 + 2 * br);
  }

  static unsigned numScalars(int batchRank) { return 7 + 2 * static_cast<unsigned>(batchRank); }

  llvm::Type *f64() { return b.getDoubleTy(); }
  llvm::Type *elem() { return k.storageTy(t); }
  Value *c(double v) { return llvm::ConstantFP::get(b.getDoubleTy(), v); }
  Value *widen(Value *x) { return t == DType::F32 ? b.CreateFPExt(x, f64()) : x; }
  Value *narrow(Value *x) { return t == DType::F32 ? b.CreateFPTrunc(x, elem()) : x; }
  /// Element x of row `row` of a [rows, width] array of the op's dtype, in double.
  Value *at(Value *base, Value *row, Value *width, Value *x) {
    return widen(k.load(elem(), base, b.CreateAdd(b.CreateMul(row, width), x)));
  }

  /// sum over x < n of a(x) b(x), in double, into `sum` (a double variable).
  Value *dot(Value *sum, Value *n, const std::function<Value *(Value *)> &x,
             const std::function<Value *(Value *)> &y) {
    b.CreateStore(c(0), sum);
    k.loop(k.i64(0), n, k.i64(1), [&](Value *i) {
      b.CreateStore(b.CreateFAdd(b.CreateLoad(f64(), sum), b.CreateFMul(x(i), y(i))), sum);
    });
    return b.CreateLoad(f64(), sum);
  }

  /// The score of query i and key j of batch slice bIdx, given q[i] . k[j].
  Value *score(Value *qk, Value *bIdx, Value *i, Value *j) {
    Value *s = b.CreateFMul(qk, c(scale));
    if (hasMask) {
      Value *row =
          b.CreateAdd(k.stridedOffset(bIdx, batchDims, maskStrides), b.CreateMul(i, maskQ));
      s = b.CreateFAdd(s, widen(k.load(elem(), mask, b.CreateAdd(row, b.CreateMul(j, maskK)))));
    }
    if (causal)
      s = b.CreateSelect(b.CreateICmpSGT(j, i), c(-INFINITY), s);
    return s;
  }

  /// p = exp(s - m) / l from a query row's stats; 0 when its every score is -inf.
  Value *probability(Value *s, Value *stats, Value *qRow) {
    Value *base = b.CreateMul(qRow, k.i64(3));
    Value *m = k.load(f64(), stats, base);
    Value *l = k.load(f64(), stats, b.CreateAdd(base, k.i64(1)));
    Value *e = b.CreateCall(mathFunction(k.m, MathFn::Exp), {b.CreateFSub(s, m)});
    return b.CreateSelect(b.CreateFCmpOEQ(m, c(-INFINITY)), c(0), b.CreateFDiv(e, l));
  }
  /// D = do[i] . o[i] of a query row, from its stats.
  Value *rowSum(Value *stats, Value *qRow) {
    return k.load(f64(), stats, b.CreateAdd(b.CreateMul(qRow, k.i64(3)), k.i64(2)));
  }

  /// The tile's size: min(n - start, blockDim).
  Value *tile(Value *n, Value *start) {
    Value *left = b.CreateSub(n, start), *ntid = k.ntid();
    return b.CreateSelect(b.CreateICmpSLT(left, ntid), left, ntid);
  }

  KernelEmitter &k;
  llvm::IRBuilder<> &b;
  DType t;
  bool hasMask;
  double scale;
  bool causal;
  Value *rows, *tq, *tk, *depth, *dv, *maskQ, *maskK, *mask = nullptr;
  std::vector<Value *> batchDims, maskStrides;
};

Status checkFloat(DType t) {
  if (!isFloat(t))
    return err(fmt::format("attention_grad is on floats, not {}", dtypeName(t)));
  return Status::ok();
}

} // namespace

Expected<llvm::Function *> emitAttentionStatsKernel(llvm::Module &m, const std::string &name,
                                                    KernelTarget target, DType t, int batchRank,
                                                    bool hasMask, double scale, bool causal) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 6, AttentionShape::numScalars(batchRank), /*noAlias=*/false);
  AttentionShape a(k, t, batchRank, hasMask, scale, causal);
  llvm::IRBuilder<> &b = k.b;
  Value *stats = k.buffer(0), *q = k.buffer(1), *keys = k.buffer(2), *o = k.buffer(3),
        *dout = k.buffer(4);
  a.mask = k.buffer(5);
  // Shared: the score tile (kMaxBlockThreads doubles), then q's row (d).
  Value *scores = k.shared(kMaxSharedBytes);
  Value *qRow = b.CreateConstInBoundsGEP1_64(a.f64(), scores, kMaxBlockThreads);
  Value *tid = k.tid(), *ntid = k.ntid();
  Value *mVar = k.variable(a.f64(), a.c(-INFINITY), "m"), *lVar = k.variable(a.f64(), a.c(0), "l");
  Value *sum = k.variable(a.f64(), a.c(0), "sum");
  llvm::Function *exp = mathFunction(m, MathFn::Exp);

  k.loop(k.ctaid(), a.rows, k.nctaid(), [&](Value *row) {
    Value *bIdx = b.CreateUDiv(row, a.tq), *i = b.CreateURem(row, a.tq);
    k.loop(tid, a.depth, ntid, [&](Value *x) { k.store(a.at(q, row, a.depth, x), qRow, x); });
    b.CreateStore(a.c(-INFINITY), mVar);
    b.CreateStore(a.c(0), lVar);
    k.barrier();
    k.loop(k.i64(0), a.tk, ntid, [&](Value *j0) {
      Value *tile = a.tile(a.tk, j0);
      k.when(b.CreateICmpSLT(tid, tile), [&] {
        Value *j = b.CreateAdd(j0, tid), *keyRow = b.CreateAdd(b.CreateMul(bIdx, a.tk), j);
        Value *qk = a.dot(
            sum, a.depth, [&](Value *x) { return k.load(a.f64(), qRow, x); },
            [&](Value *x) { return a.at(keys, keyRow, a.depth, x); });
        k.store(a.score(qk, bIdx, i, j), scores, tid);
      });
      k.barrier();
      // Every thread folds the tile into m and l alike (the forward kernel's online softmax).
      Value *mOld = b.CreateLoad(a.f64(), mVar);
      Value *mNew = k.variable(a.f64(), mOld);
      k.loop(k.i64(0), tile, k.i64(1), [&](Value *x) {
        Value *s = k.load(a.f64(), scores, x), *cur = b.CreateLoad(a.f64(), mNew);
        b.CreateStore(b.CreateSelect(b.CreateFCmpOGT(s, cur), s, cur), mNew);
      });
      Value *mx = b.CreateLoad(a.f64(), mNew);
      Value *none = b.CreateFCmpOEQ(mx, a.c(-INFINITY));
      Value *alpha = b.CreateSelect(none, a.c(1), b.CreateCall(exp, {b.CreateFSub(mOld, mx)}));
      b.CreateStore(b.CreateFMul(b.CreateLoad(a.f64(), lVar), alpha), sum);
      k.loop(k.i64(0), tile, k.i64(1), [&](Value *x) {
        Value *s = k.load(a.f64(), scores, x);
        Value *e = b.CreateSelect(none, a.c(0), b.CreateCall(exp, {b.CreateFSub(s, mx)}));
        b.CreateStore(b.CreateFAdd(b.CreateLoad(a.f64(), sum), e), sum);
      });
      b.CreateStore(b.CreateLoad(a.f64(), sum), lVar);
      b.CreateStore(mx, mVar);
      k.barrier();
    });
    k.when(b.CreateICmpEQ(tid, k.i64(0)), [&] {
      Value *d = a.dot(
          sum, a.dv, [&](Value *x) { return a.at(dout, row, a.dv, x); },
          [&](Value *x) { return a.at(o, row, a.dv, x); });
      Value *base = b.CreateMul(row, k.i64(3));
      k.store(b.CreateLoad(a.f64(), mVar), stats, base);
      k.store(b.CreateLoad(a.f64(), lVar), stats, b.CreateAdd(base, k.i64(1)));
      k.store(d, stats, b.CreateAdd(base, k.i64(2)));
    });
    k.barrier(); // shared memory is the next row's
  });
  return k.finish();
}

Expected<llvm::Function *> emitAttentionKeyGradKernel(llvm::Module &m, const std::string &name,
                                                      KernelTarget target, DType t, int batchRank,
                                                      bool hasMask, double scale, bool causal,
                                                      bool wantK, bool wantV) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 8, AttentionShape::numScalars(batchRank), /*noAlias=*/false);
  AttentionShape a(k, t, batchRank, hasMask, scale, causal);
  llvm::IRBuilder<> &b = k.b;
  Value *dk = k.buffer(0), *dvOut = k.buffer(1), *q = k.buffer(2), *keys = k.buffer(3),
        *values = k.buffer(4), *dout = k.buffer(5), *stats = k.buffer(7);
  a.mask = k.buffer(6);
  // Shared: the p and ds tiles (kMaxBlockThreads doubles each), k's row (d), v's row (dv),
  // then the accumulators of dk (d) and dv (dv).
  Value *pTile = k.shared(kMaxSharedBytes);
  Value *dsTile = b.CreateConstInBoundsGEP1_64(a.f64(), pTile, kMaxBlockThreads);
  Value *kRow = b.CreateConstInBoundsGEP1_64(a.f64(), pTile, 2 * kMaxBlockThreads);
  Value *vRow = b.CreateInBoundsGEP(a.f64(), kRow, a.depth);
  Value *accK = b.CreateInBoundsGEP(a.f64(), vRow, a.dv);
  Value *accV = b.CreateInBoundsGEP(a.f64(), accK, a.depth);
  Value *tid = k.tid(), *ntid = k.ntid();
  Value *sum = k.variable(a.f64(), a.c(0), "sum");

  k.loop(k.ctaid(), a.rows, k.nctaid(), [&](Value *row) { // row = (b, j)
    Value *bIdx = b.CreateUDiv(row, a.tk), *j = b.CreateURem(row, a.tk);
    k.loop(tid, a.depth, ntid, [&](Value *x) {
      k.store(a.at(keys, row, a.depth, x), kRow, x);
      k.store(a.c(0), accK, x);
    });
    k.loop(tid, a.dv, ntid, [&](Value *x) {
      k.store(a.at(values, row, a.dv, x), vRow, x);
      k.store(a.c(0), accV, x);
    });
    k.barrier();
    k.loop(k.i64(0), a.tq, ntid, [&](Value *i0) {
      Value *tile = a.tile(a.tq, i0);
      k.when(b.CreateICmpSLT(tid, tile), [&] {
        Value *i = b.CreateAdd(i0, tid), *qRow = b.CreateAdd(b.CreateMul(bIdx, a.tq), i);
        Value *qk = a.dot(
            sum, a.depth, [&](Value *x) { return a.at(q, qRow, a.depth, x); },
            [&](Value *x) { return k.load(a.f64(), kRow, x); });
        Value *p = a.probability(a.score(qk, bIdx, i, j), stats, qRow);
        Value *dp = a.dot(
            sum, a.dv, [&](Value *x) { return a.at(dout, qRow, a.dv, x); },
            [&](Value *x) { return k.load(a.f64(), vRow, x); });
        k.store(p, pTile, tid);
        k.store(b.CreateFMul(p, b.CreateFSub(dp, a.rowSum(stats, qRow))), dsTile, tid);
      });
      k.barrier();
      Value *firstRow = b.CreateAdd(b.CreateMul(bIdx, a.tq), i0);
      // accumulate acc[ch] += sum_t tile[t] from[firstRow + t, ch] for the threads' channels
      auto accumulate = [&](Value *acc, Value *width, Value *tileOf, Value *from) {
        k.loop(tid, width, ntid, [&](Value *ch) {
          b.CreateStore(k.load(a.f64(), acc, ch), sum);
          k.loop(k.i64(0), tile, k.i64(1), [&](Value *x) {
            Value *term = b.CreateFMul(k.load(a.f64(), tileOf, x),
                                       a.at(from, b.CreateAdd(firstRow, x), width, ch));
            b.CreateStore(b.CreateFAdd(b.CreateLoad(a.f64(), sum), term), sum);
          });
          k.store(b.CreateLoad(a.f64(), sum), acc, ch);
        });
      };
      if (wantK)
        accumulate(accK, a.depth, dsTile, q);
      if (wantV)
        accumulate(accV, a.dv, pTile, dout);
      k.barrier();
    });
    k.loop(tid, a.depth, ntid, [&](Value *x) {
      Value *g = b.CreateFMul(k.load(a.f64(), accK, x), a.c(scale));
      k.store(a.narrow(g), dk, b.CreateAdd(b.CreateMul(row, a.depth), x));
    });
    k.loop(tid, a.dv, ntid, [&](Value *x) {
      k.store(a.narrow(k.load(a.f64(), accV, x)), dvOut, b.CreateAdd(b.CreateMul(row, a.dv), x));
    });
    k.barrier(); // shared memory is the next row's
  });
  return k.finish();
}

Expected<llvm::Function *> emitAttentionQueryGradKernel(llvm::Module &m, const std::string &name,
                                                        KernelTarget target, DType t, int batchRank,
                                                        bool hasMask, double scale, bool causal) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 7, AttentionShape::numScalars(batchRank), /*noAlias=*/false);
  AttentionShape a(k, t, batchRank, hasMask, scale, causal);
  llvm::IRBuilder<> &b = k.b;
  Value *dq = k.buffer(0), *q = k.buffer(1), *keys = k.buffer(2), *values = k.buffer(3),
        *dout = k.buffer(4), *stats = k.buffer(6);
  a.mask = k.buffer(5);
  // Shared: the ds tile (kMaxBlockThreads doubles), q's row (d), do's row (dv), dq's
  // accumulators (d).
  Value *dsTile = k.shared(kMaxSharedBytes);
  Value *qRow = b.CreateConstInBoundsGEP1_64(a.f64(), dsTile, kMaxBlockThreads);
  Value *doRow = b.CreateInBoundsGEP(a.f64(), qRow, a.depth);
  Value *acc = b.CreateInBoundsGEP(a.f64(), doRow, a.dv);
  Value *tid = k.tid(), *ntid = k.ntid();
  Value *sum = k.variable(a.f64(), a.c(0), "sum");

  k.loop(k.ctaid(), a.rows, k.nctaid(), [&](Value *row) { // row = (b, i)
    Value *bIdx = b.CreateUDiv(row, a.tq), *i = b.CreateURem(row, a.tq);
    k.loop(tid, a.depth, ntid, [&](Value *x) {
      k.store(a.at(q, row, a.depth, x), qRow, x);
      k.store(a.c(0), acc, x);
    });
    k.loop(tid, a.dv, ntid, [&](Value *x) { k.store(a.at(dout, row, a.dv, x), doRow, x); });
    k.barrier();
    Value *d = a.rowSum(stats, row);
    k.loop(k.i64(0), a.tk, ntid, [&](Value *j0) {
      Value *tile = a.tile(a.tk, j0);
      k.when(b.CreateICmpSLT(tid, tile), [&] {
        Value *j = b.CreateAdd(j0, tid), *keyRow = b.CreateAdd(b.CreateMul(bIdx, a.tk), j);
        Value *qk = a.dot(
            sum, a.depth, [&](Value *x) { return k.load(a.f64(), qRow, x); },
            [&](Value *x) { return a.at(keys, keyRow, a.depth, x); });
        Value *p = a.probability(a.score(qk, bIdx, i, j), stats, row);
        Value *dp = a.dot(
            sum, a.dv, [&](Value *x) { return k.load(a.f64(), doRow, x); },
            [&](Value *x) { return a.at(values, keyRow, a.dv, x); });
        k.store(b.CreateFMul(p, b.CreateFSub(dp, d)), dsTile, tid);
      });
      k.barrier();
      Value *firstKey = b.CreateAdd(b.CreateMul(bIdx, a.tk), j0);
      k.loop(tid, a.depth, ntid, [&](Value *ch) {
        b.CreateStore(k.load(a.f64(), acc, ch), sum);
        k.loop(k.i64(0), tile, k.i64(1), [&](Value *x) {
          Value *term = b.CreateFMul(k.load(a.f64(), dsTile, x),
                                     a.at(keys, b.CreateAdd(firstKey, x), a.depth, ch));
          b.CreateStore(b.CreateFAdd(b.CreateLoad(a.f64(), sum), term), sum);
        });
        k.store(b.CreateLoad(a.f64(), sum), acc, ch);
      });
      k.barrier();
    });
    k.loop(tid, a.depth, ntid, [&](Value *x) {
      Value *g = b.CreateFMul(k.load(a.f64(), acc, x), a.c(scale));
      k.store(a.narrow(g), dq, b.CreateAdd(b.CreateMul(row, a.depth), x));
    });
    k.barrier(); // shared memory is the next row's
  });
  return k.finish();
}

} // namespace weft::cuda
