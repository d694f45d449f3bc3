//===- backends/cuda/ReduceKernels.cpp - reductions as CUDA kernels -------===//
//
// result[o] = reduce over r of operand[offset(o) + offset(r)], where o runs
// over the kept axes and r over the reduced ones, each unravelled against its
// axes' sizes and strides (scalars, so symbolic dims cost nothing):
//
//   for o = blockIdx; o < O; o += gridDim:          // a block per output
//     partial = identity
//     for r = threadIdx; r < R; r += blockDim:       // in increasing r
//       partial = combine(partial, x[o, r])
//     shared[threadIdx] = partial;  __syncthreads()
//     for s = 1; s < blockDim; s *= 2:               // the tree
//       if threadIdx % 2s == 0 && threadIdx + s < blockDim:
//         shared[threadIdx] = combine(shared[threadIdx], shared[threadIdx + s])
//       __syncthreads()
//     if threadIdx == 0: result[o] = finish(shared[0])
//     __syncthreads()                                // shared is the next output's
//
// Partials are (value, index) pairs: double or i64 values, and for max, min
// and argmax the reduced position r they came from, so that ties go to the
// first one wherever the tree meets them.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Kernels.h"
#include "backends/cuda/ReduceEmitter.h"

#include <fmt/format.h>
#include <llvm/IR/Intrinsics.h>

namespace weft::cuda {

using detail::Partial;
using detail::ReduceEmitter;
using llvm::Value;

Expected<llvm::Function *> emitReduceKernel(llvm::Module &m, const std::string &name,
                                            KernelTarget target, ReduceKind kind, DType in,
                                            DType out, int keptRank, int reducedRank) {
  if (in == DType::I1 || (kind == ReduceKind::Mean && !isFloat(in)))
    return err(fmt::format("no reduction kernel for {}", dtypeName(in)));
  const unsigned kr = static_cast<unsigned>(keptRank), rr = static_cast<unsigned>(reducedRank);
  detail::KernelEmitter k(m, name, target, 2, 2 + 2 * kr + 2 * rr, /*noAlias=*/true);
  llvm::IRBuilder<> &b = k.b;
  ReduceEmitter e(k, kind, isFloat(in));
  std::vector<Value *> keptDims, keptStrides, redDims, redStrides;
  for (unsigned a = 0; a < kr; ++a) {
    keptDims.push_back(k.scalar(2 + a));
    keptStrides.push_back(k.scalar(2 + kr + a));
  }
  for (unsigned a = 0; a < rr; ++a) {
    redDims.push_back(k.scalar(2 + 2 * kr + a));
    redStrides.push_back(k.scalar(2 + 2 * kr + rr + a));
  }
  Value *outputs = k.scalar(0), *count = k.scalar(1);
  Value *tid = k.tid(), *ntid = k.ntid();
  // Shared: kMaxBlockThreads partial values (8 bytes each), then their indices.
  Value *values = k.shared(kMaxBlockThreads * 16);
  Value *indices = b.CreateConstInBoundsGEP1_64(b.getInt64Ty(), values, kMaxBlockThreads);
  llvm::Type *acc = e.accTy(), *i64 = b.getInt64Ty(), *elem = k.storageTy(in);
  Value *value = k.variable(acc, e.identity(), "partial");
  Value *index = k.variable(i64, k.i64(-1), "index");
  // Rounds of the tree: ceil(log2(blockDim)).
  Value *rounds =
      b.CreateSub(k.i64(64), b.CreateIntrinsic(llvm::Intrinsic::ctlz, {i64},
                                               {b.CreateSub(ntid, k.i64(1)), b.getFalse()}));

  k.loop(k.ctaid(), outputs, k.nctaid(), [&](Value *o) {
    Value *base = k.stridedOffset(o, keptDims, keptStrides);
    b.CreateStore(e.identity(), value);
    b.CreateStore(k.i64(-1), index);
    k.loop(tid, count, ntid, [&](Value *r) {
      Value *at = b.CreateAdd(base, k.stridedOffset(r, redDims, redStrides));
      Partial x{e.widen(k.load(elem, k.buffer(1), at), in), r};
      Partial p = e.combine({b.CreateLoad(acc, value), b.CreateLoad(i64, index)}, x);
      b.CreateStore(p.value, value);
      b.CreateStore(p.index, index);
    });
    k.store(b.CreateLoad(acc, value), values, tid);
    k.store(b.CreateLoad(i64, index), indices, tid);
    k.barrier();
    k.loop(k.i64(0), rounds, k.i64(1), [&](Value *round) {
      Value *s = b.CreateShl(k.i64(1), round);
      Value *mine =
          b.CreateICmpEQ(b.CreateAnd(tid, b.CreateSub(b.CreateShl(s, 1), k.i64(1))), k.i64(0));
      Value *other = b.CreateAdd(tid, s);
      k.when(b.CreateAnd(mine, b.CreateICmpSLT(other, ntid)), [&] {
        Partial p = e.combine({k.load(acc, values, tid), k.load(i64, indices, tid)},
                              {k.load(acc, values, other), k.load(i64, indices, other)});
        k.store(p.value, values, tid);
        k.store(p.index, indices, tid);
      });
      k.barrier();
    });
    k.when(b.CreateICmpEQ(tid, k.i64(0)), [&] {
      Partial p{k.load(acc, values, k.i64(0)), k.load(i64, indices, k.i64(0))};
      k.store(e.finish(p, count, out), k.buffer(0), o);
    });
    k.barrier();
  });
  return k.finish();
}

std::vector<int64_t> reduceScalars(const std::vector<int64_t> &shape,
                                   const std::vector<bool> &reduced) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t a = shape.size(); a-- > 1;)
    strides[a - 1] = strides[a] * shape[a];
  int64_t outputs = 1, count = 1;
  std::vector<int64_t> keptDims, keptStrides, redDims, redStrides;
  for (size_t a = 0; a < shape.size(); ++a) {
    (reduced[a] ? count : outputs) *= shape[a];
    (reduced[a] ? redDims : keptDims).push_back(shape[a]);
    (reduced[a] ? redStrides : keptStrides).push_back(strides[a]);
  }
  std::vector<int64_t> out = {outputs, count};
  for (const auto *v : {&keptDims, &keptStrides, &redDims, &redStrides})
    out.insert(out.end(), v->begin(), v->end());
  return out;
}

} // namespace weft::cuda
