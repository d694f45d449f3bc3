//===- backends/cuda/MatmulKernel.cpp - tiled matmul as a CUDA kernel -----===//
//
// c[bt] = a[bt] b[bt] for a[batches, M, K], b[batches, K, N], c[batches, M, N]
// (Kernels.h has the tile sizes: TM x TN = 64 x 64 per block, TK = 16, each of
// the 64 threads an 8 x 8 grid of the tile):
//
//   for tile = blockIdx; tile < batches * tilesM * tilesN; tile += gridDim:
//     acc[8][8] = 0
//     for k0 = 0; k0 < K; k0 += TK:
//       As[TK][TM + 1] = a[rows of the tile, k0 : k0 + TK]   // all threads, 0 outside
//       Bs[TK][TN]     = b[k0 : k0 + TK, cols of the tile]
//       __syncthreads()
//       for kk < TK: acc[i][j] += As[kk][ty + 8 i] * Bs[kk][tx + 8 j]
//       __syncthreads()
//     c[rows ty + 8 i, cols tx + 8 j] = acc[i][j] where inside c
//
// A thread's rows and columns are 8 apart, so that a warp reads consecutive
// words of Bs and the same word of As (no bank conflicts); As's rows are
// padded by one word, so that the threads storing one column of a's tile hit
// different banks. Every element sums its products in increasing k, the same
// order on every grid. The block must have exactly kMatmulThreads threads.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Kernels.h"

#include <fmt/format.h>
#include <llvm/IR/Intrinsics.h>

namespace weft::cuda {

using llvm::Value;

Expected<llvm::Function *> emitMatmulKernel(llvm::Module &m, const std::string &name,
                                            KernelTarget target, DType t) {
  if (t == DType::I1)
    return err("no matmul kernel for i1");
  constexpr int64_t kThreadsN = kTileN / kThreadN, kStrideA = kTileM + 1;
  static_assert(kTileM / kThreadM == kTileN / kThreadN, "the threads form a square");
  detail::KernelEmitter k(m, name, target, 3, 4, /*noAlias=*/true);
  llvm::IRBuilder<> &b = k.b;
  const bool fl = isFloat(t);
  llvm::Type *ty = k.storageTy(t);
  Value *batches = k.scalar(0), *M = k.scalar(1), *K = k.scalar(2), *N = k.scalar(3);
  auto ceilDiv = [&](Value *x, int64_t d) {
    return b.CreateUDiv(b.CreateAdd(x, k.i64(d - 1)), k.i64(d));
  };
  Value *tilesN = ceilDiv(N, kTileN);
  Value *perBatch = b.CreateMul(ceilDiv(M, kTileM), tilesN);
  Value *tiles = b.CreateMul(batches, perBatch);
  const int64_t bytes = dtypeBytes(t);
  Value *as = k.shared(static_cast<uint64_t>((kTileK * kStrideA + kTileK * kTileN) * bytes));
  Value *bs = b.CreateConstInBoundsGEP1_64(ty, as, kTileK * kStrideA);
  Value *tid = k.tid(), *ntid = k.ntid();
  Value *ty_ = b.CreateUDiv(tid, k.i64(kThreadsN)), *tx = b.CreateURem(tid, k.i64(kThreadsN));
  Value *zero = fl ? llvm::ConstantFP::get(ty, 0.0) : llvm::ConstantInt::get(ty, 0);
  llvm::Value *acc = k.variable(
      llvm::ArrayType::get(ty, kThreadM * kThreadN),
      llvm::ConstantAggregateZero::get(llvm::ArrayType::get(ty, kThreadM * kThreadN)), "acc");
  auto accAt = [&](int64_t i, int64_t j) {
    return b.CreateConstInBoundsGEP2_64(llvm::ArrayType::get(ty, kThreadM * kThreadN), acc, 0,
                                        i * kThreadN + j);
  };

  k.loop(k.ctaid(), tiles, k.nctaid(), [&](Value *tile) {
    Value *bt = b.CreateUDiv(tile, perBatch), *rest = b.CreateURem(tile, perBatch);
    Value *m0 = b.CreateMul(b.CreateUDiv(rest, tilesN), k.i64(kTileM));
    Value *n0 = b.CreateMul(b.CreateURem(rest, tilesN), k.i64(kTileN));
    Value *aBase = b.CreateMul(bt, b.CreateMul(M, K));
    Value *bBase = b.CreateMul(bt, b.CreateMul(K, N));
    Value *cBase = b.CreateMul(bt, b.CreateMul(M, N));
    for (int64_t i = 0; i < kThreadM; ++i)
      for (int64_t j = 0; j < kThreadN; ++j)
        b.CreateStore(zero, accAt(i, j));

    k.loop(k.i64(0), K, k.i64(kTileK), [&](Value *k0) {
      // Loads outside the operand read its tile's first element (in range: M, K, N > 0 here)
      // and store 0 instead.
      k.loop(tid, k.i64(kTileM * kTileK), ntid, [&](Value *e) {
        Value *row = b.CreateUDiv(e, k.i64(kTileK)), *col = b.CreateURem(e, k.i64(kTileK));
        Value *gm = b.CreateAdd(m0, row), *gk = b.CreateAdd(k0, col);
        Value *inside = b.CreateAnd(b.CreateICmpSLT(gm, M), b.CreateICmpSLT(gk, K));
        Value *at =
            b.CreateSelect(inside, b.CreateAdd(aBase, b.CreateAdd(b.CreateMul(gm, K), gk)), aBase);
        Value *v = b.CreateSelect(inside, k.load(ty, k.buffer(1), at), zero);
        k.store(v, as, b.CreateAdd(b.CreateMul(col, k.i64(kStrideA)), row));
      });
      k.loop(tid, k.i64(kTileK * kTileN), ntid, [&](Value *e) {
        Value *row = b.CreateUDiv(e, k.i64(kTileN)), *col = b.CreateURem(e, k.i64(kTileN));
        Value *gk = b.CreateAdd(k0, row), *gn = b.CreateAdd(n0, col);
        Value *inside = b.CreateAnd(b.CreateICmpSLT(gk, K), b.CreateICmpSLT(gn, N));
        Value *at =
            b.CreateSelect(inside, b.CreateAdd(bBase, b.CreateAdd(b.CreateMul(gk, N), gn)), bBase);
        Value *v = b.CreateSelect(inside, k.load(ty, k.buffer(2), at), zero);
        k.store(v, bs, b.CreateAdd(b.CreateMul(row, k.i64(kTileN)), col));
      });
      k.barrier();
      k.loop(k.i64(0), k.i64(kTileK), k.i64(1), [&](Value *kk) {
        std::vector<Value *> av, bv;
        for (int64_t i = 0; i < kThreadM; ++i)
          av.push_back(k.load(ty, as,
                              b.CreateAdd(b.CreateMul(kk, k.i64(kStrideA)),
                                          b.CreateAdd(ty_, k.i64(i * (kTileM / kThreadM))))));
        for (int64_t j = 0; j < kThreadN; ++j)
          bv.push_back(k.load(
              ty, bs,
              b.CreateAdd(b.CreateMul(kk, k.i64(kTileN)), b.CreateAdd(tx, k.i64(j * kThreadsN)))));
        for (int64_t i = 0; i < kThreadM; ++i)
          for (int64_t j = 0; j < kThreadN; ++j) {
            Value *c = b.CreateLoad(ty, accAt(i, j));
            Value *sum = fl ? b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {ty}, {av[i], bv[j], c})
                            : b.CreateAdd(c, b.CreateMul(av[i], bv[j]));
            b.CreateStore(sum, accAt(i, j));
          }
      });
      k.barrier();
    });

    for (int64_t i = 0; i < kThreadM; ++i)
      for (int64_t j = 0; j < kThreadN; ++j) {
        Value *gm = b.CreateAdd(m0, b.CreateAdd(ty_, k.i64(i * (kTileM / kThreadM))));
        Value *gn = b.CreateAdd(n0, b.CreateAdd(tx, k.i64(j * kThreadsN)));
        k.when(b.CreateAnd(b.CreateICmpSLT(gm, M), b.CreateICmpSLT(gn, N)), [&] {
          k.store(b.CreateLoad(ty, accAt(i, j)), k.buffer(0),
                  b.CreateAdd(cBase, b.CreateAdd(b.CreateMul(gm, N), gn)));
        });
      }
  });
  return k.finish();
}

} // namespace weft::cuda
