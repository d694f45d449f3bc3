//===- backends/cuda/Ptx.h - LLVM IR to PTX through LLVM's NVPTX target ---===//
//
// Kernels are LLVM IR functions with the ptx_kernel calling convention in a
// module whose triple is nvptx64-nvidia-cuda. compileToPtx optimizes such a
// module and prints its PTX, which the CUDA driver loads (JIT-compiling it
// for the GPU at hand) and ptxas validates. LLVM 19 is all it needs.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace weft::cuda {

/// The GPU generations weft compiles for: sm_80 (A100) and sm_90 (H100/H200).
bool isSupportedSm(const std::string &sm);

/// An empty module set up for NVPTX (triple and data layout) to emit kernels into.
std::unique_ptr<llvm::Module> newKernelModule(llvm::LLVMContext &ctx, const std::string &name);

/// Verifies, optimizes (O`optLevel`) and prints `m` as PTX for `sm`.
Expected<std::string> compileToPtx(llvm::Module &m, const std::string &sm, int optLevel = 2);

} // namespace weft::cuda
