//===- backends/cuda/KernelEmitter.h - what every CUDA kernel builder uses -===//
//
// Internal to backends/cuda. A kernel is `void name(buffers..., i64 scalars...)`; its host
// build takes one more argument, a HostThread* (Kernels.h), where its NVPTX build reads PTX's
// special registers, so the same body builder emits both. KernelEmitter makes the function and
// gives a builder the pieces of the CUDA model: thread and block indices, the block's shared
// memory and its barrier, loads and stores in weft's layouts, and counted loops.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/Kernels.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <functional>
#include <string>

namespace weft::cuda::detail {

class KernelEmitter {
public:
  /// Starts kernel `name` with `numBuffers` pointers and `numScalars` i64 arguments, and puts
  /// the builder in its entry block. `noAlias`: no two buffers overlap.
  KernelEmitter(llvm::Module &m, const std::string &name, KernelTarget target, unsigned numBuffers,
                unsigned numScalars, bool noAlias);

  llvm::IRBuilder<> b;
  llvm::Module &m;
  llvm::Function *f;
  const KernelTarget target;

  llvm::Value *buffer(unsigned i) const;
  llvm::Value *scalar(unsigned i) const;
  /// threadIdx.x, blockDim.x, blockIdx.x, gridDim.x, as i64.
  llvm::Value *tid();
  llvm::Value *ntid();
  llvm::Value *ctaid();
  llvm::Value *nctaid();
  /// __syncthreads(): every thread of the block must reach it.
  void barrier();
  /// A barrier of the whole grid, for kernels launched with Grid::coResident (every block
  /// running at once): every thread of every block must reach it. `counter` is an i64 in global
  /// memory, 0 at the launch; at its k-th barrier (k = 1, 2, ...) a kernel passes `arrivals` =
  /// k * gridDim. The block's thread 0 fences (release), adds 1 to the counter, spins until it
  /// reads `arrivals` and fences again (acquire), between two bar.syncs of the block.
  void gridBarrier(llvm::Value *counter, llvm::Value *arrivals);
  /// Host build only: the simulated mma.sync of HostThread::mmaTf32 on arrays a, b and c.
  void hostMmaTf32(llvm::Value *a, llvm::Value *b, llvm::Value *c, int64_t tilesM, int64_t tilesN);
  /// The block's shared memory: `bytes` of it, 16-byte aligned, one area per kernel.
  llvm::Value *shared(uint64_t bytes);

  llvm::Type *storageTy(DType t);
  llvm::Value *i64(int64_t v) { return b.getInt64(static_cast<uint64_t>(v)); }
  llvm::Value *load(llvm::Type *t, llvm::Value *base, llvm::Value *index);
  void store(llvm::Value *v, llvm::Value *base, llvm::Value *index);

  /// Emits `for (i = begin; i < end; i += step) body(i)`.
  void loop(llvm::Value *begin, llvm::Value *end, llvm::Value *step,
            const std::function<void(llvm::Value *)> &body);
  /// Emits `if (cond) then()`.
  void when(llvm::Value *cond, const std::function<void()> &then);
  /// Emits `atomicMin(*status, i)` (a relaxed atomic): the first faulting element's index into
  /// an i64 status word that the host sets to INT64_MAX before the launch.
  void lowerStatus(llvm::Value *status, llvm::Value *i);
  /// An i64 or float variable in the entry block (promoted to a register when optimized).
  llvm::Value *variable(llvm::Type *t, llvm::Value *init, const std::string &name = "");

  /// The offset of the element at flat position `i` of a row-major domain of sizes `dims`,
  /// in an array whose axes have `strides`: sum over axes of unravel(i)[a] * strides[a].
  llvm::Value *stridedOffset(llvm::Value *i, const std::vector<llvm::Value *> &dims,
                             const std::vector<llvm::Value *> &strides);

  /// Ends the kernel: `ret void` at the current position.
  llvm::Function *finish();

private:
  llvm::Value *sreg(unsigned nvvmIntrinsic, int hostField);
  llvm::Value *hostThread() const;
  unsigned numBuffers_, numScalars_;
};

/// What an integer division emits where its divisor is zero (`zero`, an i1).
using DivisionByZero = std::function<void(llvm::Value *zero)>;

/// The value of elementwise op `op` on scalars `xs` (i1 as i1), as the elementwise kernels
/// compute it; an error names an op whose math is not written for the GPU. An integer division
/// needs `divisionByZero`: without it, it is an error.
Expected<llvm::Value *> emitScalarOp(llvm::IRBuilder<> &b, llvm::Module &m, const ir::Op &op,
                                     const std::vector<llvm::Value *> &xs,
                                     const DivisionByZero &divisionByZero = {});

} // namespace weft::cuda::detail
