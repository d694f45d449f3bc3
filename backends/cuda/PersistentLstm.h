//===- backends/cuda/PersistentLstm.h - lstm_sequence as one persistent kernel ===//
//
// Internal to backends/cuda. The persistent-RNN form of lstm_sequence (docs/IR.md): the input
// projection of all steps as one matmul, then ONE launch for all T steps, whose blocks each own
// a slice of U hidden units (the four gates of each, so the cell update is local), keep that
// slice of wh in shared memory for the whole sequence, and meet at a grid barrier between
// steps (PersistentLstmKernel.cpp has the algorithm).
//
// The rule, decided when a function is lowered (H is static, B and T may be symbolic):
//   U = ceil(H / kPersistentLstmSlices), S = ceil(H / U) slices;
//   persistent iff the dtype is f32 or f64 and a slice of wh, H x 4U elements, fits in a
//   block's kMaxSharedBytes (48 KB) of static shared memory: f32 up to H = 614, f64 up to
//   H = 384 (f32 H = 512: U = 4, 128 slices of 32 KB).
// Otherwise the op runs as the scan it stands for (one launch per op of the cell per step).
// At run time the grid is min(S, Device::coResidentBlocks()) blocks, all resident at once (one
// per SM on a GPU), so its grid barrier cannot deadlock; where S is more than that, blocks take
// several slices each and load each slice's weights again every step (still one launch, but the
// weights stream from L2: slower, still right). Code built ahead of time has no device to ask,
// so it has no plan for this kernel yet.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/Kernels.h"
#include "backends/cuda/Lowering.h"

namespace weft::cuda {

/// How many slices of hidden units the kernel aims at: at most one block per SM on an H100 or
/// H200 (132 SMs), so that each block keeps its slice of wh in shared memory.
constexpr int64_t kPersistentLstmSlices = 128;

/// The hidden units per slice for H = `hidden`: ceil(H / kPersistentLstmSlices).
int64_t persistentLstmUnits(int64_t hidden);
/// The number of slices, ceil(H / U).
int64_t persistentLstmSliceCount(int64_t hidden);
/// Whether lstm_sequence with H = `hidden` of dtype `t` takes the persistent kernel (above).
bool persistentLstmFits(int64_t hidden, DType t);

/// The dtype of lstm_sequence's lengths, if it has them.
enum class LstmLengths { None, I32, I64 };

/// Adds `void name(ptr hs, ptr hT, ptr cT, ptr proj, ptr h0, ptr c0, ptr wh, ptr bias, ptr len,
/// ptr hbuf, ptr counter, i64 T, i64 B)` for H = `hidden` of dtype `t` (f32 or f64): proj [T*B,
/// 4H] is xs . wx (without the bias), hbuf [2, B, H] scratch for h of two steps, counter one i64
/// set to 0 before the launch; len (i32 or i64, any pointer for None) must be in [0, T]. The
/// launch needs Grid::coResident, at most persistentLstmSliceCount(hidden) blocks, any number
/// of threads up to kMaxBlockThreads.
Expected<llvm::Function *> emitPersistentLstmKernel(llvm::Module &m, const std::string &name,
                                                    KernelTarget target, DType t, int64_t hidden,
                                                    LstmLengths lengths, bool reverse);

namespace detail {

/// The scratch a persistent lstm_sequence asks the buffer plan for: proj [T*B, 4H], hbuf
/// [2, B, H] and the barrier's counter (one i64).
std::vector<ir::Type> persistentLstmScratch(const ir::Op &op);

/// The buffers of one lstm_sequence: its results, operands (len -1 when it has none) and the
/// scratch of persistentLstmScratch, as slots of the buffer plan.
struct LstmSlots {
  int hs, hT, cT, xs, h0, c0, wx, wh, bias, len, proj, hbuf, counter;
};

/// The steps of a persistent lstm_sequence `op`: a check of the lengths (if any), the input
/// projection (the matmul kernel, on tensor cores with `tf32`), the counter's reset and the
/// kernel. Kernels are added to `km` under names starting with `name`, and to `names`.
Expected<std::vector<Step>> lowerPersistentLstm(const ir::Op &op, const LstmSlots &slots,
                                                KernelModule &km, KernelTarget target,
                                                std::vector<std::string> &names,
                                                const std::string &name, const std::string &what,
                                                bool tf32);

} // namespace detail
} // namespace weft::cuda
