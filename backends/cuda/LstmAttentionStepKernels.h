//===- backends/cuda/LstmAttentionStepKernels.h - lstm_attention_step's own kernels -===//
//
// The two kernels LowerLstmAttentionStep.cpp puts around the tiled matmuls and the attention
// kernel of Kernels.h: the cell, and the attention vector. Arithmetic in double, as
// eval/LstmAttentionStep.cpp's; stored in the op's dtype. Threads stride over their elements.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/Kernels.h"

namespace weft::cuda {

/// The cell, `void name(ptr h2, ptr c2, ptr zx, ptr zh, ptr bias, ptr c, i64 B, i64 H)`: over
/// the B H units, with z = zx + zh + bias ([B, 4H], gates i, f, g, o; zx = x wx, zh = h wh),
///   c2 = sigmoid(z_f) c + sigmoid(z_i) tanh(z_g);  h2 = sigmoid(z_o) tanh(c2 rounded to t).
Expected<llvm::Function *> emitLstmAttentionCellKernel(llvm::Module &m, const std::string &name,
                                                       KernelTarget target, DType t);

/// The attention vector, `void name(ptr att, ptr h2, ptr context, ptr wa, i64 B, i64 H, i64 D,
/// i64 N)`: att[b, n] = sum_k h2[b, k] wa[k, n] + sum_d context[b, d] wa[H + d, n], that is
/// concat(h2, context) wa without the concat. A thread per element, neighbours reading
/// neighbouring columns of wa.
Expected<llvm::Function *> emitAttentionVectorKernel(llvm::Module &m, const std::string &name,
                                                     KernelTarget target, DType t);

} // namespace weft::cuda
