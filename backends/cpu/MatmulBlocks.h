//===- backends/cpu/MatmulBlocks.h - the packed GEMM's block sizes --------===//
//
// Free of LLVM: the block and tile sizes of the packed GEMM (EmitMatmul.cpp)
// for a dtype and vector width, shrunk where a dim is static and smaller. The
// scratch model (Scratch.cpp) sizes the packed-B buffer from them before any
// code is emitted, so the buffer plan knows it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Type.h"

#include <algorithm>

namespace weft::cpu {

/// Matmuls whose A has at most this many rows (static) use the small-M kernel, not the GEMM.
inline constexpr int64_t kSmallMatmulRows = 4;

struct GemmBlocks {
  int esz = 4, W = 8, NV = 2, NR = 16, MR = 6; // element bytes, vector lanes, tile shape
  int64_t KC = 0, MC = 0, NC = 0, NB = 0;      // block sizes in elements
  int64_t maxKC = 0, maxMC = 0; // KC and MC before any shrinking: the most any shape uses
  bool packA = true;            // A packed in panels of MR rows, or read in place
};

inline int64_t roundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

inline GemmBlocks gemmBlocks(DType dt, int vectorBytes, const ir::Dim &Md, const ir::Dim &Kd,
                             const ir::Dim &Nd) {
  GemmBlocks g;
  g.esz = static_cast<int>(dtypeBytes(dt));
  g.W = vectorBytes / g.esz;
  // The tile: MR x NV vectors of accumulators, with NV vectors of B and a broadcast beside them.
  // AVX-512: 6 x 4 vectors, 24 of the 32 registers (6 x 64 f32); AVX2 and SSE: 6 x 2, 12 of 16.
  // Each k step is MR * NV multiply-adds against NV + MR loads (the broadcasts fold into the
  // FMAs), so a core with one 512-bit FMA and two loads a cycle (Zen 4) runs it at its FMA
  // throughput (llvm-mca -mcpu=znver4: 24 FMAs in 24 cycles, as 8 x 32's 16 in 16).
  g.NV = vectorBytes == 64 ? 4 : 2;
  g.NR = g.W * g.NV;
  g.MR = 6;
  // KC: the k depth of a B strip (KC x NR, 64 KB for f32 on AVX-512) that stays in L2 (1-2 MB a
  // core on current x86) while the A panels of a block (MC x KC, 72 KB) pass under it; it is
  // read at NR * esz bytes per MR * NV multiply-adds, far below L2's bandwidth, so it need not
  // fit L1. Deep enough that C's update (MR * NV loads and stores) is 1/256 of the work.
  // 128 and 512 measured no faster at the LSTM projection's shapes.
  g.KC = 256 * 4 / g.esz;
  g.MC = g.MR * 12;
  g.NC = g.W * 128;               // columns of B per block: 2048 f32 on AVX-512, 1024 on AVX2
  g.NB = g.W * 32;                // the widest column group of a task: 512 f32 columns on AVX-512
  g.maxKC = g.KC, g.maxMC = g.MC; // equal M blocks below are at most MC rows too
  if (Kd.isStatic())
    g.KC = std::max<int64_t>(1, std::min(g.KC, Kd.size()));
  if (Md.isStatic()) { // equal M blocks, so that parallel tasks are balanced
    int64_t blocksM = (Md.size() + g.MC - 1) / g.MC;
    g.MC = std::max<int64_t>(
        g.MR, roundUp((Md.size() + blocksM - 1) / std::max<int64_t>(blocksM, 1), g.MR));
  }
  // A is packed so that the micro-kernel reads it as one stream, once per strip of B. With at
  // most two strips that copy is not paid back (128 x 50 x 200: 61 -> 83 GFLOP/s read in
  // place), and the rows are read where they are.
  if (Nd.isStatic())
    g.packA = Nd.size() > 2 * g.NR;
  if (Nd.isStatic())
    g.NC = std::max<int64_t>(g.NR, std::min(g.NC, roundUp(Nd.size(), g.NR)));
  return g;
}

} // namespace weft::cpu
