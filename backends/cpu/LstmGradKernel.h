//===- backends/cpu/LstmGradKernel.h - lstm_sequence_grad's scratch -------===//
//
// Free of LLVM: the buffers of the lstm_sequence_grad kernel (EmitLstmGrad.cpp), shared with
// the scratch model (Scratch.cpp), which sizes them before any code is emitted. In the order
// the kernel takes them (TB = T * B rows, one per step and example):
//   Hp    [T, B, H]     the h each step started from (zero on padded steps)
//   Z     [T, B, 4H]    xs . wx; then the activated gates i, f, g, o; then their gradient dz
//                       (the training form: dz only)
//   Zh    [T, B, 4H]    Hp . wh                  } empty in the training form ({save_gates}),
//   C     [T, B, H]     c after each step        } which reads gates and cs from its operands
//   Xt    [I, TB]       xs transposed, Hpt [H, TB] Hp transposed: A of the weight gradients
//   WhT   [4H, H]       wh transposed, then packed whole (WhTp) for the per-step dh GEMM
//   WxT   [4H, I]       wx transposed, B of dxs = dz . wx^T
//   dh    [2, B, H]     the adjoint of h before and after a step (swapped each step)
//   dc    [B, H]        the adjoint of c
//   block the packed-B block of the GEMMs that pack as they go (the largest of theirs)
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <vector>

namespace weft::cpu {

/// The scratch buffers of the kernel for lstm_sequence_grad `op`, in the order above.
std::vector<ir::Type> lstmGradKernelScratch(const ir::Op &op, int vectorBytes);

} // namespace weft::cpu
