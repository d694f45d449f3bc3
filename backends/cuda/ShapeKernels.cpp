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
// scatter_add, gather's adjoint, is computed by the owner of each result element, so that
// every element sums its updates in the interpreter's order (increasing i) and a float
// result is reproducible and bit-identical; no atomics on data:
//
//   for o = globalThread; o < n; o += gridThreads:   // o = (p, k, q), n = P * axis * Q
//     acc = base[o]
//     for i in 0 .. I: if indices[i] == k: acc += updates[(p * I + i) * Q + q]
//     out[o] = acc
//   for i = globalThread; i < I; i += gridThreads:   // (only when P * Q > 0)
//     if indices[i] outside [0, axis): atomicMin(status, i * Q)  // as gather's position
//
// It reads all I indices per element: O(P axis Q I) work, which is fine for the gradients of
// embeddings of moderate vocabularies; a sort by index would scale better.
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
    k.lowerStatus(k.buffer(3), o);
    b.CreateBr(next);
    b.SetInsertPoint(next);
  });
  return k.finish();
}

Expected<llvm::Function *> emitScatterAddKernel(llvm::Module &m, const std::string &name,
                                                KernelTarget target, DType t, DType indexType) {
  if (indexType != DType::I32 && indexType != DType::I64)
    return err(fmt::format("scatter_add indices must be i32 or i64, not {}", dtypeName(indexType)));
  if (t == DType::I1)
    return err("scatter_add adds numbers, not i1");
  detail::KernelEmitter k(m, name, target, 5, 5, /*noAlias=*/true);
  llvm::IRBuilder<> &b = k.b;
  Value *n = k.scalar(0), *count = k.scalar(1), *inner = k.scalar(2), *axis = k.scalar(3),
        *outer = k.scalar(4);
  llvm::Type *elem = k.storageTy(t);
  const bool fl = isFloat(t);
  auto indexAt = [&](Value *i) {
    Value *idx = k.load(k.storageTy(indexType), k.buffer(2), i);
    return indexType == DType::I32 ? b.CreateSExt(idx, b.getInt64Ty()) : idx;
  };
  Value *first = b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid());
  Value *stride = b.CreateMul(k.nctaid(), k.ntid());
  k.loop(first, n, stride, [&](Value *o) {
    Value *q = b.CreateURem(o, inner), *rest = b.CreateUDiv(o, inner);
    Value *key = b.CreateURem(rest, axis), *p = b.CreateUDiv(rest, axis);
    Value *acc = k.variable(elem, k.load(elem, k.buffer(1), o));
    Value *row = b.CreateMul(p, count);
    k.loop(k.i64(0), count, k.i64(1), [&](Value *i) {
      k.when(b.CreateICmpEQ(indexAt(i), key), [&] {
        Value *u =
            k.load(elem, k.buffer(3), b.CreateAdd(b.CreateMul(b.CreateAdd(row, i), inner), q));
        Value *old = b.CreateLoad(elem, acc);
        b.CreateStore(fl ? b.CreateFAdd(old, u) : b.CreateAdd(old, u), acc);
      });
    });
    k.store(b.CreateLoad(elem, acc), k.buffer(0), o);
  });
  Value *updates = b.CreateICmpSGT(b.CreateMul(outer, inner), k.i64(0));
  k.when(updates, [&] {
    k.loop(first, count, stride, [&](Value *i) {
      Value *idx = indexAt(i);
      Value *bad = b.CreateOr(b.CreateICmpSLT(idx, k.i64(0)), b.CreateICmpSGE(idx, axis));
      k.when(bad, [&] { k.lowerStatus(k.buffer(4), b.CreateMul(i, inner)); });
    });
  });
  return k.finish();
}

} // namespace weft::cuda
