//===- backends/cuda/LoopKernels.cpp - the copies a scan or while makes ----===//
//
// The host runs a loop's control flow (Lowering.h's LoopCode); between trips it moves
// yielded values into the carries and into row t of the stacked emits with one kernel,
// which under lengths (scan) or finished flags (while) copies only the active examples'
// rows:
//
//   for i = globalThread; i < n; i += gridThreads:   // b = i / rowElems, the example
//     active = no mask | t < lengths[b] | !finished[b]
//     if active:     dst[dstOffset + i] = src[i]
//     else if zero:  dst[dstOffset + i] = 0          (an emit's row; a carry keeps its value)
//
// and a while's `finished |= done` is a byte-wise or.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Kernels.h"

#include <fmt/format.h>

namespace weft::cuda {

using llvm::Value;

Expected<llvm::Function *> emitLoopCopyKernel(llvm::Module &m, const std::string &name,
                                              KernelTarget target, int elementBytes,
                                              LoopCopyMask mask) {
  if (elementBytes != 1 && elementBytes != 4 && elementBytes != 8)
    return err(fmt::format("no loop copy kernel for {}-byte elements", elementBytes));
  detail::KernelEmitter k(m, name, target, 3, 5, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  Value *n = k.scalar(0), *rowElems = k.scalar(1), *dstOffset = k.scalar(2), *t = k.scalar(3),
        *zero = k.scalar(4);
  llvm::Type *elem = b.getIntNTy(static_cast<unsigned>(8 * elementBytes));
  Value *first = b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid());
  k.loop(first, n, b.CreateMul(k.nctaid(), k.ntid()), [&](Value *i) {
    Value *example = b.CreateUDiv(i, rowElems);
    Value *active = b.getTrue();
    switch (mask) {
    case LoopCopyMask::None:
      break;
    case LoopCopyMask::LengthsI32:
      active = b.CreateICmpSLT(
          t, b.CreateSExt(k.load(b.getInt32Ty(), k.buffer(2), example), b.getInt64Ty()));
      break;
    case LoopCopyMask::LengthsI64:
      active = b.CreateICmpSLT(t, k.load(b.getInt64Ty(), k.buffer(2), example));
      break;
    case LoopCopyMask::Unfinished:
      active = b.CreateICmpEQ(k.load(b.getInt8Ty(), k.buffer(2), example), b.getInt8(0));
      break;
    }
    Value *to = b.CreateAdd(dstOffset, i);
    Value *value =
        b.CreateSelect(active, k.load(elem, k.buffer(1), i), llvm::ConstantInt::get(elem, 0));
    Value *write = b.CreateOr(active, b.CreateICmpNE(zero, k.i64(0)));
    k.when(write, [&] { k.store(value, k.buffer(0), to); });
  });
  return k.finish();
}

Expected<llvm::Function *> emitOrKernel(llvm::Module &m, const std::string &name,
                                        KernelTarget target) {
  detail::KernelEmitter k(m, name, target, 2, 1, /*noAlias=*/true);
  llvm::IRBuilder<> &b = k.b;
  Value *first = b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid());
  k.loop(first, k.scalar(0), b.CreateMul(k.nctaid(), k.ntid()), [&](Value *i) {
    llvm::Type *byte = b.getInt8Ty();
    k.store(b.CreateOr(k.load(byte, k.buffer(0), i), k.load(byte, k.buffer(1), i)), k.buffer(0), i);
  });
  return k.finish();
}

} // namespace weft::cuda
