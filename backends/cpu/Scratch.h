//===- backends/cpu/Scratch.h - the scratch buffers the CPU emitter needs -===//
//
// Free of LLVM. The CPU backend's scratch model for the buffer plan
// (analysis/BufferPlan.h), per op, in the order the emitter asks for them:
// - reduce_sum/reduce_mean of f32: an f64 accumulator of the result's shape;
// - float matmul through the packed GEMM: the packed-B block (MatmulBlocks.h),
//   unless its loop packs all of B before the loop (Prepack.h);
// - scan/while: first, all of B for each matmul of the body whose B the loop
//   packs before its first trip, then the weight strips of each
//   lstm_attention_step of the body whose weights it packs (Prepack.h);
// - lstm_attention_step: its weight strips (LstmAttentionStepKernel.h), unless
//   its loop packs them;
// - while: a copy of the yielded `finished` flags when they are a carry;
// - scan/while: a staging copy of a yielded carry that is another carry of
//   the same trip (a swap), so that it is read before it is overwritten.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "analysis/BufferPlan.h"

namespace weft::cpu {

/// The scratch model of code for vectors `vectorBytes` wide (16, 32 or 64).
analysis::ScratchModel scratchModel(int vectorBytes);

} // namespace weft::cpu
