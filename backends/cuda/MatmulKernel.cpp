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
// The tf32 kernel (opt-in) keeps the tiles and their loads, with rows of 72
// words in shared memory (a warp's fragment loads then hit 32 banks), and
// gives each of its four warps a 32 x 32 quarter of the tile: per k-step of
// 8, two 16 x 8 fragments of a and four 8 x 8 of b, rounded to tf32, and
// eight mma.sync.m16n8k8 into 32 f32 accumulators per thread. Fragment
// layouts (PTX ISA, mma.m16n8k8 .tf32; g = lane / 4, t = lane % 4):
//   a: a0 (g, t), a1 (g + 8, t), a2 (g, t + 4), a3 (g + 8, t + 4)
//   b: b0 (t, g), b1 (t + 4, g)
//   c: c0 (g, 2t), c1 (g, 2t + 1), c2 (g + 8, 2t), c3 (g + 8, 2t + 1)
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Kernels.h"

#include <fmt/format.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsNVPTX.h>

namespace weft::cuda {

using llvm::Value;

namespace {

/// Emits the loads of one K-tile of a and b into shared memory (row strides `strideA`,
/// `strideB`), zeros outside the operands: the same in both kernels.
void loadTiles(detail::KernelEmitter &k, llvm::Type *ty, Value *as, Value *bs, int64_t strideA,
               int64_t strideB, Value *k0, Value *m0, Value *n0, Value *M, Value *K, Value *N,
               Value *aBase, Value *bBase) {
  llvm::IRBuilder<> &b = k.b;
  Value *tid = k.tid(), *ntid = k.ntid();
  Value *zero =
      ty->isFloatingPointTy() ? llvm::ConstantFP::get(ty, 0.0) : llvm::ConstantInt::get(ty, 0);
  // Loads outside the operand read its tile's first element (in range: M, K, N > 0 here) and
  // store 0 instead.
  k.loop(tid, k.i64(kTileM * kTileK), ntid, [&](Value *e) {
    Value *row = b.CreateUDiv(e, k.i64(kTileK)), *col = b.CreateURem(e, k.i64(kTileK));
    Value *gm = b.CreateAdd(m0, row), *gk = b.CreateAdd(k0, col);
    Value *inside = b.CreateAnd(b.CreateICmpSLT(gm, M), b.CreateICmpSLT(gk, K));
    Value *at =
        b.CreateSelect(inside, b.CreateAdd(aBase, b.CreateAdd(b.CreateMul(gm, K), gk)), aBase);
    Value *v = b.CreateSelect(inside, k.load(ty, k.buffer(1), at), zero);
    k.store(v, as, b.CreateAdd(b.CreateMul(col, k.i64(strideA)), row));
  });
  k.loop(tid, k.i64(kTileK * kTileN), ntid, [&](Value *e) {
    Value *row = b.CreateUDiv(e, k.i64(kTileN)), *col = b.CreateURem(e, k.i64(kTileN));
    Value *gk = b.CreateAdd(k0, row), *gn = b.CreateAdd(n0, col);
    Value *inside = b.CreateAnd(b.CreateICmpSLT(gk, K), b.CreateICmpSLT(gn, N));
    Value *at =
        b.CreateSelect(inside, b.CreateAdd(bBase, b.CreateAdd(b.CreateMul(gk, N), gn)), bBase);
    Value *v = b.CreateSelect(inside, k.load(ty, k.buffer(2), at), zero);
    k.store(v, bs, b.CreateAdd(b.CreateMul(row, k.i64(strideB)), col));
  });
}

/// f32 rounded to tf32 (to nearest, ties away from zero, as cvt.rna.tf32.f32), as an i32.
Value *toTf32(detail::KernelEmitter &k, Value *x) {
  llvm::IRBuilder<> &b = k.b;
  if (k.target == KernelTarget::Nvptx)
    return b.CreateIntrinsic(llvm::Intrinsic::nvvm_f2tf32_rna, {}, {x});
  Value *bits = b.CreateBitCast(x, b.getInt32Ty());
  Value *special = b.CreateICmpEQ(b.CreateAnd(bits, b.getInt32(0x7f800000)),
                                  b.getInt32(0x7f800000)); // inf and NaN stay
  Value *rounded = b.CreateAnd(b.CreateAdd(bits, b.getInt32(0x1000)), b.getInt32(~0x1fffu));
  return b.CreateSelect(special, bits, rounded);
}

} // namespace

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
  Value *tid = k.tid();
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
      loadTiles(k, ty, as, bs, kStrideA, kTileN, k0, m0, n0, M, K, N, aBase, bBase);
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

namespace weft::cuda {

Expected<llvm::Function *> emitMatmulTf32Kernel(llvm::Module &m, const std::string &name,
                                                KernelTarget target) {
  constexpr int64_t kStride = kTileM + 8, kWarpTile = 32, kFragsM = 2, kFragsN = 4;
  static_assert(kTileM == 64 && kTileN == 64 && kTileK % 8 == 0 && kMmaThreads == 128,
                "four warps, each a 32 x 32 quarter of the tile");
  detail::KernelEmitter k(m, name, target, 3, 4, /*noAlias=*/true);
  llvm::IRBuilder<> &b = k.b;
  llvm::Type *f32 = b.getFloatTy(), *i32 = b.getInt32Ty();
  Value *batches = k.scalar(0), *M = k.scalar(1), *K = k.scalar(2), *N = k.scalar(3);
  auto ceilDiv = [&](Value *x, int64_t d) {
    return b.CreateUDiv(b.CreateAdd(x, k.i64(d - 1)), k.i64(d));
  };
  Value *tilesN = ceilDiv(N, kTileN);
  Value *perBatch = b.CreateMul(ceilDiv(M, kTileM), tilesN);
  Value *tiles = b.CreateMul(batches, perBatch);
  Value *as = k.shared(static_cast<uint64_t>(2 * kTileK * kStride * 4));
  Value *bs = b.CreateConstInBoundsGEP1_64(f32, as, kTileK * kStride);
  Value *tid = k.tid();
  Value *warp = b.CreateUDiv(tid, k.i64(32)), *lane = b.CreateURem(tid, k.i64(32));
  Value *g = b.CreateUDiv(lane, k.i64(4)), *t = b.CreateURem(lane, k.i64(4));
  Value *wm = b.CreateMul(b.CreateUDiv(warp, k.i64(2)), k.i64(kWarpTile));
  Value *wn = b.CreateMul(b.CreateURem(warp, k.i64(2)), k.i64(kWarpTile));
  auto *accTy = llvm::ArrayType::get(f32, kFragsM * kFragsN * 4);
  auto *aTy = llvm::ArrayType::get(i32, kFragsM * 4), *bTy = llvm::ArrayType::get(i32, kFragsN * 2);
  Value *acc = k.variable(accTy, llvm::ConstantAggregateZero::get(accTy), "acc");
  Value *aFrag = k.variable(aTy, llvm::ConstantAggregateZero::get(aTy), "a");
  Value *bFrag = k.variable(bTy, llvm::ConstantAggregateZero::get(bTy), "b");
  auto at = [&](llvm::Type *ty, Value *array, int64_t i) {
    return b.CreateConstInBoundsGEP2_64(ty, array, 0, static_cast<uint64_t>(i));
  };
  auto add = [&](Value *x, int64_t c) { return b.CreateAdd(x, k.i64(c)); };

  k.loop(k.ctaid(), tiles, k.nctaid(), [&](Value *tile) {
    Value *bt = b.CreateUDiv(tile, perBatch), *rest = b.CreateURem(tile, perBatch);
    Value *m0 = b.CreateMul(b.CreateUDiv(rest, tilesN), k.i64(kTileM));
    Value *n0 = b.CreateMul(b.CreateURem(rest, tilesN), k.i64(kTileN));
    Value *aBase = b.CreateMul(bt, b.CreateMul(M, K));
    Value *bBase = b.CreateMul(bt, b.CreateMul(K, N));
    Value *cBase = b.CreateMul(bt, b.CreateMul(M, N));
    b.CreateStore(llvm::ConstantAggregateZero::get(accTy), acc);
    k.loop(k.i64(0), K, k.i64(kTileK), [&](Value *k0) {
      loadTiles(k, f32, as, bs, kStride, kStride, k0, m0, n0, M, K, N, aBase, bBase);
      k.barrier();
      for (int64_t kk = 0; kk < kTileK; kk += 8) {
        // Fragments: a[i] rows wm + 16 i + (g, g + 8), cols kk + (t, t + 4); b[j] rows
        // kk + (t, t + 4), col wn + 8 j + g.
        for (int64_t i = 0; i < kFragsM; ++i)
          for (int64_t r = 0; r < 4; ++r) {
            Value *row = add(b.CreateAdd(wm, g), 16 * i + (r % 2) * 8);
            Value *col = add(t, kk + (r / 2) * 4);
            Value *x = k.load(f32, as, b.CreateAdd(b.CreateMul(col, k.i64(kStride)), row));
            b.CreateStore(toTf32(k, x), at(aTy, aFrag, i * 4 + r));
          }
        for (int64_t j = 0; j < kFragsN; ++j)
          for (int64_t r = 0; r < 2; ++r) {
            Value *row = add(t, kk + r * 4);
            Value *col = add(b.CreateAdd(wn, g), 8 * j);
            Value *x = k.load(f32, bs, b.CreateAdd(b.CreateMul(row, k.i64(kStride)), col));
            b.CreateStore(toTf32(k, x), at(bTy, bFrag, j * 2 + r));
          }
        if (target == KernelTarget::Host) {
          k.hostMmaTf32(aFrag, bFrag, acc, kFragsM, kFragsN);
          continue;
        }
        for (int64_t i = 0; i < kFragsM; ++i)
          for (int64_t j = 0; j < kFragsN; ++j) {
            std::vector<Value *> args;
            for (int64_t r = 0; r < 4; ++r)
              args.push_back(b.CreateLoad(i32, at(aTy, aFrag, i * 4 + r)));
            for (int64_t r = 0; r < 2; ++r)
              args.push_back(b.CreateLoad(i32, at(bTy, bFrag, j * 2 + r)));
            const int64_t c = (i * kFragsN + j) * 4;
            for (int64_t r = 0; r < 4; ++r)
              args.push_back(b.CreateLoad(f32, at(accTy, acc, c + r)));
            Value *d = b.CreateIntrinsic(llvm::Intrinsic::nvvm_mma_m16n8k8_row_col_tf32, {}, args);
            for (unsigned r = 0; r < 4; ++r)
              b.CreateStore(b.CreateExtractValue(d, {r}), at(accTy, acc, c + r));
          }
      }
      k.barrier();
    });
    for (int64_t i = 0; i < kFragsM; ++i)
      for (int64_t j = 0; j < kFragsN; ++j)
        for (int64_t r = 0; r < 4; ++r) {
          Value *gm = b.CreateAdd(m0, add(b.CreateAdd(wm, g), 16 * i + (r / 2) * 8));
          Value *gn =
              b.CreateAdd(n0, add(b.CreateAdd(wn, b.CreateMul(t, k.i64(2))), 8 * j + r % 2));
          const int64_t c = (i * kFragsN + j) * 4 + r;
          k.when(b.CreateAnd(b.CreateICmpSLT(gm, M), b.CreateICmpSLT(gn, N)), [&] {
            k.store(b.CreateLoad(f32, at(accTy, acc, c)), k.buffer(0),
                    b.CreateAdd(cBase, b.CreateAdd(b.CreateMul(gm, N), gn)));
          });
        }
  });
  return k.finish();
}

} // namespace weft::cuda
