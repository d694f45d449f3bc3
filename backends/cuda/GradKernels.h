//===- backends/cuda/GradKernels.h - the kernels of the fused ops' gradients -===//
//
// attention_grad's three kernels (AttentionGradKernel.cpp) and lstm_sequence_grad's
// elementwise kernels (LstmGradKernels.cpp); LowerGrads.cpp puts them in order with the
// matmul and reduction kernels of Kernels.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/Kernels.h"

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

} // namespace weft::cuda
