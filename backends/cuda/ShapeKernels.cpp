//===- backends/cuda/ShapeKernels.cpp - data movement as CUDA kernels -----===//
//
// The shape ops move elements without looking at them, so two kernels per
// element width serve them all: a strided copy over a row-major domain
//
//   for i = globalThread; i < n; i += gridThreads:   // x = unravel(i, dims)
//     dst[dstOffset + x . dstStrides] = src[srcOffset + x . srcStrides]
//
// (transpose permutes the source strides, broadcast zeroes them, slice and
// pad move an offset, concat copies each operand into its part of the
// result), and a fill (pad's border). The backend computes the strides from
// the call's shapes (Lowering.cpp). Gather reads its indices:
//
//   for o = globalThread; o < n; o += gridThreads:   // o = (p, i, q)
//     k = indices[i]
//     if 0 <= k < axis: out[o] = table[(p * axis + k) * Q + q]
//     else:             atomicMin(status, o)         // the first bad position
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Kernels.h"

#include <fmt/format.h>

namespace weft::cuda {
namespace {

using llvm::Value;

Status checkWidth(int elementBytes) {
  if (elementBytes == 1 || elementBytes == 4 || elementBytes == 8)
    return Status::ok();
  return err(fmt::format("no copy kernel for {}-byte elements", elementBytes));
}

} // namespace

Expected<llvm::Function *> emitCopyKernel(llvm::Module &m, const std::string &name,
                                          KernelTarget target, int elementBytes, int rank) {
  WEFT_TRY(checkWidth(elementBytes));
  const unsigned r = static_cast<unsigned>(rank);
  detail::KernelEmitter k(m, name, target, 2, 3 + 3 * r, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  std::vector<Value *> dims, srcStrides, dstStrides;
  for (unsigned a = 0; a < r; ++a) {
    dims.push_back(k.scalar(1 + a));
    srcStrides.push_back(k.scalar(1 + r + a));
    dstStrides.push_back(k.scalar(1 + 2 * r + a));
  }
  Value *srcOffset = k.scalar(1 + 3 * r), *dstOffset = k.scalar(2 + 3 * r);
  llvm::Type *elem = b.getIntNTy(static_cast<unsigned>(8 * elementBytes));
  Value *first = b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid());
  k.loop(first, k.scalar(0), b.CreateMul(k.nctaid(), k.ntid()), [&](Value *i) {
    Value *from = b.CreateAdd(srcOffset, k.stridedOffset(i, dims, srcStrides));
    Value *to = b.CreateAdd(dstOffset, k.stridedOffset(i, dims, dstStrides));
    k.store(k.load(elem, k.buffer(1), from), k.buffer(0), to);
  });
  return k.finish();
}

Expected<llvm::Function *> emitFillKernel(llvm::Module &m, const std::string &name,
                                          KernelTarget target, int elementBytes) {
  WEFT_TRY(checkWidth(elementBytes));
  detail::KernelEmitter k(m, name, target, 1, 2, /*noAlias=*/true);
  llvm::IRBuilder<> &b = k.b;
  Value *bits = b.CreateTrunc(k.scalar(1), b.getIntNTy(static_cast<unsigned>(8 * elementBytes)));
  Value *first = b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid());
  k.loop(first, k.scalar(0), b.CreateMul(k.nctaid(), k.ntid()),
         [&](Value *i) { k.store(bits, k.buffer(0), i); });
  return k.finish();
}

Expected<llvm::Function *> emitGatherKernel(llvm::Module &m, const std::string &name,
                                            KernelTarget target, int elementBytes,
                                            DType indexType) {
  WEFT_TRY(checkWidth(elementBytes));
  if (indexType != DType::I32 && indexType != DType::I64)
    return err(fmt::format("gather indices must be i32 or i64, not {}", dtypeName(indexType)));
  detail::KernelEmitter k(m, name, target, 4, 4, /*noAlias=*/true);
  llvm::IRBuilder<> &b = k.b;
  Value *n = k.scalar(0), *count = k.scalar(1), *inner = k.scalar(2), *axis = k.scalar(3);
  llvm::Type *elem = b.getIntNTy(static_cast<unsigned>(8 * elementBytes));
  Value *first = b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid());
  k.loop(first, n, b.CreateMul(k.nctaid(), k.ntid()), [&](Value *o) {
    Value *q = b.CreateURem(o, inner), *rest = b.CreateUDiv(o, inner);
    Value *i = b.CreateURem(rest, count), *p = b.CreateUDiv(rest, count);
    Value *idx = k.load(k.storageTy(indexType), k.buffer(2), i);
    if (indexType == DType::I32)
      idx = b.CreateSExt(idx, b.getInt64Ty());
    Value *ok = b.CreateAnd(b.CreateICmpSGE(idx, k.i64(0)), b.CreateICmpSLT(idx, axis));
    llvm::BasicBlock *bad = llvm::BasicBlock::Create(m.getContext(), "bad", k.f);
    llvm::BasicBlock *good = llvm::BasicBlock::Create(m.getContext(), "good", k.f);
    llvm::BasicBlock *next = llvm::BasicBlock::Create(m.getContext(), "next", k.f);
    b.CreateCondBr(ok, good, bad);
    b.SetInsertPoint(good);
    Value *from = b.CreateAdd(b.CreateMul(b.CreateAdd(b.CreateMul(p, axis), idx), inner), q);
    k.store(k.load(elem, k.buffer(1), from), k.buffer(0), o);
    b.CreateBr(next);
    b.SetInsertPoint(bad);
    b.CreateAtomicRMW(llvm::AtomicRMWInst::Min, k.buffer(3), o, llvm::MaybeAlign(8),
                      llvm::AtomicOrdering::Monotonic);
    b.CreateBr(next);
    b.SetInsertPoint(next);
  });
  return k.finish();
}

} // namespace weft::cuda
