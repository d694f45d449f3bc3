//===- backends/cuda/GradAccess.h - what the recurrent gradients' kernels share -===//
//
// Internal to backends/cuda. The elementwise kernels of lstm_sequence_grad (LstmGradKernels.cpp)
// and of gru/rnn_sequence_grad (GruRnnGradKernels.cpp) compute in double, as their eval/ oracles,
// and store in the op's dtype; threads stride over their elements.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/KernelEmitter.h"

#include <functional>
#include <optional>

namespace weft::cuda::detail {

/// Loads, widening to double, and stores, narrowing to the op's dtype.
struct GradAccess {
  KernelEmitter &k;
  DType t;
  llvm::Value *load(llvm::Value *base, llvm::Value *i) {
    llvm::Value *x = k.load(k.storageTy(t), base, i);
    return t == DType::F32 ? k.b.CreateFPExt(x, k.b.getDoubleTy()) : x;
  }
  void store(llvm::Value *x, llvm::Value *base, llvm::Value *i) {
    k.store(t == DType::F32 ? k.b.CreateFPTrunc(x, k.storageTy(t)) : x, base, i);
  }
  llvm::Value *c(double v) { return llvm::ConstantFP::get(k.b.getDoubleTy(), v); }
};

/// `for i = global thread index; i < n; i += grid's threads`.
inline void everyElement(KernelEmitter &k, llvm::Value *n,
                         const std::function<void(llvm::Value *)> &body) {
  llvm::IRBuilder<> &b = k.b;
  llvm::Value *first = b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid());
  k.loop(first, n, b.CreateMul(k.nctaid(), k.ntid()), body);
}

} // namespace weft::cuda::detail
