//===- backends/cuda/GradKernels.h - the kernels of the fused ops' gradients -===//
//
// attention_grad's three kernels (AttentionGradKernel.cpp) and lstm_sequence_grad's
// elementwise kernels (LstmGradKernels.cpp); LowerGrads.cpp puts them in order with the
// matmul and reduction kernels of Kernels.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/Kernels.h"

#include <optional>

namespace weft::cuda {

/// The most d + dv attention_grad's kernels take: the dk/dv kernel holds a key's k and v rows
/// and their accumulators (2 (d + dv) doubles) beside two tiles of kMaxBlockThreads doubles.
constexpr int64_t kMaxAttentionGradDepth =
    (static_cast<int64_t>(kMaxSharedBytes / 8) - 2 * kMaxBlockThreads) / 2;

/// The scalars every attention_grad kernel takes after its buffers, as attention's: rows (query
/// rows for the stats and dq kernels, key rows for the dk/dv kernel), Tq, Tk, d, dv,
/// batchDims[batchRank], maskBatchStrides[batchRank], maskQ, maskK. The mask is read at its
/// strides (0 where it broadcasts); when there is none, any pointer.
///
/// Stats, `void name(ptr stats, ptr q, ptr k, ptr o, ptr do, ptr mask, i64 scalars...)`: a block
/// per query row (b, i) writes stats[3 row ..] = m (the row's max score), l (sum of exp(s - m))
/// and D = do[i] . o[i], in double.
Expected<llvm::Function *> emitAttentionStatsKernel(llvm::Module &m, const std::string &name,
                                                    KernelTarget target, DType t, int batchRank,
                                                    bool hasMask, double scale, bool causal);

/// dk and dv, `void name(ptr dk, ptr dv, ptr q, ptr k, ptr v, ptr do, ptr mask, ptr stats,
/// i64 scalars...)`: a block per key row (b, j) walks the queries in tiles of blockDim, each
/// thread recomputing one p[i, j] = exp(s - m_i) / l_i and ds = p (do[i] . v[j] - D_i) into
/// shared memory, then the threads over channels add sum_i ds q[i] and sum_i p do[i]. No two
/// blocks write one element: no atomics, the same bits on every run. A gradient not wanted is
/// written as zeros.
Expected<llvm::Function *> emitAttentionKeyGradKernel(llvm::Module &m, const std::string &name,
                                                      KernelTarget target, DType t, int batchRank,
                                                      bool hasMask, double scale, bool causal,
                                                      bool wantK, bool wantV);

/// dq, `void name(ptr dq, ptr q, ptr k, ptr v, ptr do, ptr mask, ptr stats, i64 scalars...)`:
/// a block per query row walks the keys in tiles of blockDim, ds of the tile in shared memory,
/// and adds scale sum_j ds k[j].
Expected<llvm::Function *> emitAttentionQueryGradKernel(llvm::Module &m, const std::string &name,
                                                        KernelTarget target, DType t, int batchRank,
                                                        bool hasMask, double scale, bool causal);

/// lstm_sequence_grad's elementwise kernels (LstmGradKernels.cpp), for T steps of B examples
/// with H hidden units and G = 4H gates in dtype `t`. `lengths`: the dtype of the op's lengths
/// (i32 or i64), or none (every example runs T steps). Threads stride over their elements.
///
/// Previous states, `void name(ptr hp, ptr h0, ptr hs, ptr len, i64 T, i64 B, i64 H)`: hp[t, b]
/// = the h that step t of example b starts from: h0[b] at the example's first step (t = 0, or
/// t = len[b] - 1 when `reverse`), else hs of the step before; 0 past its length.
Expected<llvm::Function *> emitLstmPreviousStateKernel(llvm::Module &m, const std::string &name,
                                                       KernelTarget target, DType t,
                                                       std::optional<DType> lengths, bool reverse);

/// Gates, `void name(ptr act, ptr zh, ptr bias, i64 n, i64 G, i64 H)`: over n = T B G elements,
/// act = sigmoid(act + zh + bias[q]) (tanh for the g gate, 2H <= q < 3H) in place, where act
/// holds xs wx and zh hp wh. In double, rounded once.
Expected<llvm::Function *> emitLstmGatesKernel(llvm::Module &m, const std::string &name,
                                               KernelTarget target, DType t);

/// Cell states, `void name(ptr cs, ptr cp, ptr act, ptr c0, ptr len, i64 T, i64 B, i64 H)`: a
/// thread per (b, j) runs the example's steps in the forward's order, c = f c + i g from c0 in
/// double: cp[t, b, j] the c step t starts from, cs[t, b, j] the c it ends with; 0 past the
/// example's length.
Expected<llvm::Function *> emitLstmCellKernel(llvm::Module &m, const std::string &name,
                                              KernelTarget target, DType t,
                                              std::optional<DType> lengths, bool reverse);

/// One step's gate gradients, `void name(ptr dz, ptr dcOut, ptr act, ptr cs, ptr cp, ptr dhs,
/// ptr dh, ptr dc, i64 n, i64 H)` over n = B H elements (eval/LstmSequenceGrad.cpp's step):
///   dh' = dh + dhs;  tc = tanh(cs);  dc' = dc + dh' o (1 - tc^2)
///   dz = [dc' g i (1 - i), dc' cp f (1 - f), dc' i (1 - g^2), dh' tc o (1 - o)];  dcOut = dc' f
Expected<llvm::Function *> emitLstmGateGradKernel(llvm::Module &m, const std::string &name,
                                                  KernelTarget target, DType t);

} // namespace weft::cuda
