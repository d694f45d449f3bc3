//===- backends/cuda/Kernels.h - weft ops as CUDA kernels in LLVM IR -------===//
//
// Each function adds one kernel (an LLVM function with the ptx_kernel calling
// convention) to a module made by newKernelModule, for compileToPtx. Buffers
// are device pointers in the layout of weft's Arrays; i1 is one byte.
//
// So far: elementwise ops (unary, binary, comparisons, logic, select, cast)
// over n elements, one thread per element in a grid-stride loop. Not yet: sin,
// cos, erf and pow (their math is not written for the GPU yet) and integer
// division (its division-by-zero fault needs the status word of a call);
// asking for them is an error that names the op.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"
#include "runtime/Support.h"

#include <memory>
#include <string>

namespace llvm {
class Function;
class LLVMContext;
class Module;
} // namespace llvm

namespace weft::cuda {

/// Where a kernel runs. Host builds the same kernel body as an ordinary function that takes
/// its thread's first index and the grid's stride as two more i64 arguments, so that tests
/// run it on the CPU (a functional simulator of the launch) against the interpreter.
enum class KernelTarget { Nvptx, Host };

/// A module of kernels and the context that owns it, handed to a Device to load.
struct KernelModule {
  KernelModule();
  KernelModule(KernelModule &&) noexcept;
  KernelModule &operator=(KernelModule &&) noexcept;
  ~KernelModule();
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
};

/// An empty module for kernels built for `target`: set up for NVPTX, or with no target for the
/// host (the host device gives it this machine's when it loads it).
KernelModule makeKernelModule(KernelTarget target, const std::string &name);

/// Adds `void name(ptr result, ptr operand0, ..., i64 n)` computing `op` (an elementwise op
/// whose operands and result have one shape) on n elements. The launch needs no particular
/// grid: threads stride over the elements. `inPlace`: the result's buffer is an operand's (the
/// buffer plan's in-place write), so the buffers are not marked noalias.
Expected<llvm::Function *> emitElementwiseKernel(llvm::Module &m, const ir::Op &op,
                                                 const std::string &name,
                                                 KernelTarget target = KernelTarget::Nvptx,
                                                 bool inPlace = false);

} // namespace weft::cuda
