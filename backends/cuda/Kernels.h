//===- backends/cuda/Kernels.h - weft ops as CUDA kernels in LLVM IR -------===//
//
// Each function adds one kernel (an LLVM function with the ptx_kernel calling
// convention) to a module made by makeKernelModule, for compileToPtx. Buffers
// are device pointers in the layout of weft's Arrays; i1 is one byte.
//
// The kernel ABI: `void name(ptr buffers..., i64 scalars...)`. Scalars carry
// what is known only at run time (element counts, symbolic dims, strides), so
// one kernel serves every binding of a function's symbols. The host build
// takes a HostThread* last, read where the NVPTX build reads PTX's special
// registers (%tid, %ntid, %ctaid, %nctaid), its shared memory and bar.sync.
//
// Kernels: elementwise ops (unary, binary, comparisons, logic, select, cast)
// over n elements; reductions (ReduceKernels.cpp); strided copies and fills
// for the shape ops, gather and scatter_add (ShapeKernels.cpp); iota and random numbers
// (ProducerKernels.cpp); tiled matmul (MatmulKernel.cpp). The math functions
// (exp, log, tanh, sigmoid, sin, cos, erf, pow) are Math.h's, in double.
// Integer division reports division by zero through a status word, alone or
// inside a fusion (a word for each division of the body).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"
#include "runtime/Support.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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

/// One thread of a kernel's host build: its place in the grid (PTX's %tid.x, %ntid.x,
/// %ctaid.x, %nctaid.x), its block's shared memory, and the block's barrier, which returns when
/// every thread of the block has called it.
struct HostThread {
  int64_t tid, ntid, ctaid, nctaid;
  void *shared;
  void (*barrier)(void *state);
  void *barrierState;
  /// What the host build calls for a warp's mma.sync.m16n8k8 tf32 instructions (a warp-wide
  /// exchange of fragments, so every thread of the block must call it): for i < tilesM and
  /// j < tilesN, c[i][j] (4 floats) = a[i] (4 tf32 words) x b[j] (2 tf32 words) + c[i][j], in
  /// the fragment layouts of PTX's mma.m16n8k8 .row.col .tf32.
  void (*mmaTf32)(HostThread *self, const uint32_t *a, const uint32_t *b, float *c, int64_t tilesM,
                  int64_t tilesN);
  void *warpExchange;
  /// What a thread spinning at a grid barrier (KernelEmitter::gridBarrier) calls between two
  /// reads of the counter, so that the threads it waits for get the CPU.
  void (*yield)();
};

/// The most threads a block of a kernel that takes any block size may have (its shared memory
/// is sized for them), and the bytes of shared memory the host device gives each block.
constexpr int64_t kMaxBlockThreads = 256;
constexpr size_t kMaxSharedBytes = 48 * 1024;

/// Whether `op`'s elementwise kernel can fault (integer division by zero): it then takes one
/// more buffer, an i64 status word, which it lowers by atomic min to the first faulting
/// element's index (the caller sets it to INT64_MAX before).
bool elementwiseFaults(const ir::Op &op);

/// The integer divisions in the body of `fusion`, in body order: its kernel takes an i64 status
/// word for each, after its arguments, which it lowers as an elementwise kernel lowers its own.
std::vector<const ir::Op *> fusionDivisions(const ir::Op &fusion);

/// Adds `void name(ptr result, ptr operand0, ... [, ptr status], i64 n)` computing `op` (an
/// elementwise op whose operands and result have one shape) on n elements. The launch needs no
/// particular grid: threads stride over the elements. `inPlace`: the result's buffer is an
/// operand's (the buffer plan's in-place write), so the buffers are not marked noalias.
Expected<llvm::Function *> emitElementwiseKernel(llvm::Module &m, const ir::Op &op,
                                                 const std::string &name,
                                                 KernelTarget target = KernelTarget::Nvptx,
                                                 bool inPlace = false);

/// What a reduction kernel computes per output element.
enum class ReduceKind { Sum, Mean, Max, Min, Argmax };

/// Adds `void name(ptr result, ptr operand, i64 scalars...)` reducing an operand of dtype `in`
/// with `keptRank` kept and `reducedRank` reduced axes into a result of dtype `out` (the
/// operand's, or i64 for argmax). Scalars: reduceScalars's. Blocks stride over the output
/// elements, one at a time; a block's threads (any number up to kMaxBlockThreads) stride over
/// the reduced elements, each keeping a partial, then combine the partials in shared memory by
/// a tree: in round s = 1, 2, 4, ..., thread t (t a multiple of 2s) takes in the partial of
/// thread t + s. The order depends only on the block size, so a device's results are
/// reproducible. Floats accumulate in double and round once (as the interpreter); max, min and
/// argmax keep the first of equal elements and prefer NaN, as the interpreter does.
Expected<llvm::Function *> emitReduceKernel(llvm::Module &m, const std::string &name,
                                            KernelTarget target, ReduceKind kind, DType in,
                                            DType out, int keptRank, int reducedRank);
/// The scalars of a reduction of an operand of `shape` over the axes marked in `reduced`:
/// outputs, reduced elements, the kept axes' sizes and strides, the reduced axes' sizes and
/// strides.
std::vector<int64_t> reduceScalars(const std::vector<int64_t> &shape,
                                   const std::vector<bool> &reduced);

/// Adds `void name(ptr dst, ptr src, i64 n, i64 dims[rank], i64 srcStrides[rank],
/// i64 dstStrides[rank], i64 srcOffset, i64 dstOffset)`: for each flat position i < n of the
/// row-major domain `dims`, with multi-index x, dst[dstOffset + x.dstStrides] =
/// src[srcOffset + x.srcStrides], in elements of `elementBytes` (1, 4 or 8). Transpose,
/// broadcast (stride 0), slice, concat and pad are this one kernel with other strides.
Expected<llvm::Function *> emitCopyKernel(llvm::Module &m, const std::string &name,
                                          KernelTarget target, int elementBytes, int rank);
/// Adds `void name(ptr dst, i64 n, i64 bits)`: n elements of `elementBytes` set to the low
/// bytes of `bits`.
Expected<llvm::Function *> emitFillKernel(llvm::Module &m, const std::string &name,
                                          KernelTarget target, int elementBytes);

/// Adds `void name(ptr result, ptr table, ptr indices, ptr status, i64 n, i64 I, i64 Q,
/// i64 axis)`: numpy's take, for a table [P, axis, Q] (its axes before, at and after the gather
/// axis) and I indices of `indexType` (i32 or i64): result[p, i, q] = table[p, indices[i], q]
/// over n = P * I * Q elements. An index outside [0, axis) leaves its element unwritten and
/// lowers the i64 at `status` to the element's position, which the caller sets to INT64_MAX
/// before and reads after.
Expected<llvm::Function *> emitGatherKernel(llvm::Module &m, const std::string &name,
                                            KernelTarget target, int elementBytes, DType indexType);

/// Adds `void name(ptr result, ptr base, ptr indices, ptr updates, ptr status, i64 n, i64 I,
/// i64 Q, i64 axis, i64 P)`: gather's adjoint, result = base with updates[p, i, q] added at
/// [p, indices[i], q], for a base [P, axis, Q] of dtype `t` over n = P * axis * Q elements and
/// I indices of `indexType`. Each result element adds its updates in increasing i, as the
/// interpreter does. An index outside [0, axis) (when there are updates) lowers the i64 at
/// `status` to i * Q, the flat position of its first update, as gather's check reads it.
Expected<llvm::Function *> emitScatterAddKernel(llvm::Module &m, const std::string &name,
                                                KernelTarget target, DType t, DType indexType);

/// Adds `void name(ptr result, i64 n, i64 inner, i64 axis)`: result[i] = (i / inner) % axis in
/// dtype `t` over n elements (iota along an axis of size `axis` and stride `inner`).
Expected<llvm::Function *> emitIotaKernel(llvm::Module &m, const std::string &name,
                                          KernelTarget target, DType t);

/// Adds `void name(ptr result, ptr seed, i64 n)`: n random numbers of float dtype `t` from the
/// i64 at `seed`, uniform in [0, 1) or standard normal, runtime/Random.h's numbers for element
/// i (uniform bit for bit; normal to the accuracy of log and cos in double).
Expected<llvm::Function *> emitRandomKernel(llvm::Module &m, const std::string &name,
                                            KernelTarget target, DType t, bool normal);

/// Adds the kernel of `fusion` (a fusion op whose body is in kernel form, ir/Fusion.h),
/// `void name(ptr results..., ptr arguments..., ptr status..., i64 scalars...)`
/// (FusionKernel.cpp), a status word for each of fusionDivisions(fusion): every body
/// value a register, the element yields stored, the trailing reductions accumulated in the
/// interpreter's order. Scalars: fusionScalars's. `inPlace`: a result overwrites an argument.
Expected<llvm::Function *> emitFusionKernel(llvm::Module &m, const std::string &name,
                                            KernelTarget target, const ir::Op &fusion,
                                            bool inPlace);

/// The most d + dv attention's kernel takes: q's row and the accumulators share the block's
/// shared memory with a tile of kMaxBlockThreads scores, all in double.
constexpr int64_t kMaxAttentionDepth = static_cast<int64_t>(kMaxSharedBytes / 8) - kMaxBlockThreads;

/// Adds `void name(ptr context, ptr weights, ptr qp, ptr kp, ptr v, ptr values, ptr mask,
/// i64 B, i64 S, i64 A, i64 D)` (AdditiveAttentionKernel.cpp): additive_attention of dtype `t`,
/// a block per batch row (any number of threads up to kMaxBlockThreads), scores in double; the
/// mask (when `hasMask`; else any pointer) is [B, S].
/// AttentionScore::Luong (lstm_attention_step {luong}): the score is v[0] (qp[b] . kp[b, j])
/// instead of v . tanh(kp[b, j] + qp[b]), v being Luong's scale g.
enum class AttentionScore { Additive, Luong };
Expected<llvm::Function *>
emitAdditiveAttentionKernel(llvm::Module &m, const std::string &name, KernelTarget target, DType t,
                            bool hasMask, AttentionScore score = AttentionScore::Additive);

/// Adds `void name(ptr o, ptr q, ptr k, ptr v, ptr mask, i64 rows, i64 Tq, i64 Tk, i64 d,
/// i64 dv, i64 batchDims[batchRank], i64 maskBatchStrides[batchRank], i64 maskQ, i64 maskK)`
/// (AttentionKernel.cpp): attention of dtype `t` over rows = batch * Tq query rows, a block per
/// row, with an online softmax over tiles of blockDim keys, scores in double. The mask (when
/// `hasMask`; else any pointer) is read at its strides (0 where it broadcasts). The block's
/// threads may be any number up to kMaxBlockThreads; d + dv at most kMaxAttentionDepth.
Expected<llvm::Function *> emitAttentionKernel(llvm::Module &m, const std::string &name,
                                               KernelTarget target, DType t, int batchRank,
                                               bool hasMask, double scale, bool causal);

/// Which examples a loop's copy writes: all; those with t < lengths[b] (i32 or i64 lengths, a
/// scan's); those whose finished flag (one byte) is 0 (a while's).
enum class LoopCopyMask { None, LengthsI32, LengthsI64, Unfinished };

/// Adds `void name(ptr dst, ptr src, ptr mask, i64 n, i64 rowElems, i64 dstOffset, i64 t,
/// i64 zero)` (LoopKernels.cpp): for i < n, in example b = i / rowElems, dst[dstOffset + i] =
/// src[i] if the example is active under `mask` (read at `mask`; any pointer for None), else 0
/// if `zero` is not 0, else dst is left alone. Elements of 1, 4 or 8 bytes.
Expected<llvm::Function *> emitLoopCopyKernel(llvm::Module &m, const std::string &name,
                                              KernelTarget target, int elementBytes,
                                              LoopCopyMask mask);
/// Adds `void name(ptr dst, ptr src, i64 n)`: dst[i] |= src[i] over n bytes (i1 flags).
Expected<llvm::Function *> emitOrKernel(llvm::Module &m, const std::string &name,
                                        KernelTarget target);

/// The tiling of the matmul kernel: a block computes a kTileM x kTileN tile of the result,
/// each of its kMatmulThreads threads a kThreadM x kThreadN grid of it, stepping over K by
/// kTileK with both operands' tiles in shared memory.
constexpr int64_t kTileM = 64, kTileN = 64, kTileK = 16, kThreadM = 8, kThreadN = 8;
constexpr int64_t kMatmulThreads = (kTileM / kThreadM) * (kTileN / kThreadN);

/// Adds `void name(ptr c, ptr a, ptr b, i64 batches, i64 M, i64 K, i64 N)`: for each batch,
/// c[M, N] = a[M, K] b[K, N] in dtype `t` (floats accumulate in `t` with fma, integers wrap).
/// Blocks of exactly kMatmulThreads threads stride over the tiles of all batches; each result
/// element sums its products in increasing k.
Expected<llvm::Function *> emitMatmulKernel(llvm::Module &m, const std::string &name,
                                            KernelTarget target, DType t);

/// The tensor-core matmul (f32 operands rounded to tf32, f32 accumulation; opt-in, as tf32
/// keeps 10 bits of mantissa): the same arguments, tiles and tile loads as emitMatmulKernel,
/// in blocks of exactly kMmaThreads threads, four warps each computing a 32 x 32 quarter of the
/// tile with mma.sync.m16n8k8. On the host device the mma is simulated (HostThread::mmaTf32),
/// so the kernel's indexing is tested there; the tensor cores themselves only on a GPU.
constexpr int64_t kMmaThreads = 128;
Expected<llvm::Function *> emitMatmulTf32Kernel(llvm::Module &m, const std::string &name,
                                                KernelTarget target);

} // namespace weft::cuda
