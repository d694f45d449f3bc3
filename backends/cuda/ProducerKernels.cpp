//===- backends/cuda/ProducerKernels.cpp - iota and random as CUDA kernels -===//
//
// Ops that make their result from attributes and a seed, one element per thread step:
//
//   iota:            out[i] = (i / inner) % axis            (converted to the result's dtype)
//   random_uniform:  out[i] = top bits of splitmix(seed, i) times 2^-24 (f32) or 2^-53 (f64)
//   random_normal:   out[i] = sqrt(-2 ln u1) cos(2 pi u2),  u1, u2 from counters 2i and 2i+1
//
// The random numbers are runtime/Random.h's, bit for bit where they are integers and
// products by powers of two (uniform); normal goes through Math.h's log and cos in double, as
// the interpreter goes through libm's, so it agrees to their accuracy.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Kernels.h"
#include "backends/cuda/Math.h"

#include <fmt/format.h>

namespace weft::cuda {
namespace {

using llvm::Value;

/// runtime/Random.h's mix64: the splitmix64 finalizer.
Value *mix64(llvm::IRBuilder<> &b, Value *x) {
  auto c = [&](uint64_t v) { return b.getInt64(v); };
  x = b.CreateAdd(x, c(0x9E3779B97F4A7C15ull));
  x = b.CreateMul(b.CreateXor(x, b.CreateLShr(x, c(30))), c(0xBF58476D1CE4E5B9ull));
  x = b.CreateMul(b.CreateXor(x, b.CreateLShr(x, c(27))), c(0x94D049BB133111EBull));
  return b.CreateXor(x, b.CreateLShr(x, c(31)));
}

/// The first element this thread computes and the grid's stride over elements.
std::pair<Value *, Value *> gridStride(detail::KernelEmitter &k) {
  llvm::IRBuilder<> &b = k.b;
  return {b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid()),
          b.CreateMul(k.nctaid(), k.ntid())};
}

} // namespace

Expected<llvm::Function *> emitIotaKernel(llvm::Module &m, const std::string &name,
                                          KernelTarget target, DType t) {
  if (t == DType::I1)
    return err("iota makes numbers, not i1");
  detail::KernelEmitter k(m, name, target, 1, 3, /*noAlias=*/true);
  llvm::IRBuilder<> &b = k.b;
  auto [first, stride] = gridStride(k);
  llvm::Type *elem = k.storageTy(t);
  k.loop(first, k.scalar(0), stride, [&](Value *i) {
    Value *v = b.CreateURem(b.CreateUDiv(i, k.scalar(1)), k.scalar(2));
    v = isFloat(t) ? b.CreateSIToFP(v, elem) : b.CreateTrunc(v, elem);
    k.store(v, k.buffer(0), i);
  });
  return k.finish();
}

Expected<llvm::Function *> emitRandomKernel(llvm::Module &m, const std::string &name,
                                            KernelTarget target, DType t, bool normal) {
  if (!isFloat(t))
    return err(fmt::format("random numbers are f32 or f64, not {}", dtypeName(t)));
  detail::KernelEmitter k(m, name, target, 2, 1, /*noAlias=*/true);
  llvm::IRBuilder<> &b = k.b;
  llvm::Type *f64 = b.getDoubleTy();
  Value *stream = mix64(b, k.load(b.getInt64Ty(), k.buffer(1), k.i64(0)));
  auto bits = [&](Value *counter) { return mix64(b, b.CreateXor(stream, counter)); };
  // The top 53 bits as a double in [0, 2^53).
  auto top53 = [&](Value *counter) {
    return b.CreateUIToFP(b.CreateLShr(bits(counter), k.i64(11)), f64);
  };
  auto [first, stride] = gridStride(k);
  k.loop(first, k.scalar(0), stride, [&](Value *i) {
    Value *v;
    if (normal) {
      Value *twoI = b.CreateShl(i, k.i64(1));
      Value *u1 = b.CreateFMul(b.CreateFAdd(top53(twoI), llvm::ConstantFP::get(f64, 1.0)),
                               llvm::ConstantFP::get(f64, 0x1.0p-53));
      Value *u2 =
          b.CreateFMul(top53(b.CreateOr(twoI, k.i64(1))), llvm::ConstantFP::get(f64, 0x1.0p-53));
      Value *ln = b.CreateCall(mathFunction(m, MathFn::Log), {u1});
      Value *radius = b.CreateIntrinsic(llvm::Intrinsic::sqrt, {f64},
                                        {b.CreateFMul(llvm::ConstantFP::get(f64, -2.0), ln)});
      Value *angle =
          b.CreateCall(mathFunction(m, MathFn::Cos),
                       {b.CreateFMul(llvm::ConstantFP::get(f64, 6.283185307179586), u2)});
      v = b.CreateFMul(radius, angle);
      if (t == DType::F32)
        v = b.CreateFPTrunc(v, b.getFloatTy());
    } else if (t == DType::F32) {
      Value *top24 = b.CreateUIToFP(b.CreateLShr(bits(i), k.i64(40)), b.getFloatTy());
      v = b.CreateFMul(top24, llvm::ConstantFP::get(b.getFloatTy(), 0x1.0p-24));
    } else {
      v = b.CreateFMul(top53(i), llvm::ConstantFP::get(f64, 0x1.0p-53));
    }
    k.store(v, k.buffer(0), i);
  });
  return k.finish();
}

} // namespace weft::cuda
