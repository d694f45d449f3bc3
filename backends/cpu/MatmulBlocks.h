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
};

inline int64_t roundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

inline GemmBlocks gemmBlocks(DType dt, int vectorBytes, const ir::Dim &Md, const ir::Dim &Kd,
                             const ir::Dim &Nd) {
  GemmBlocks g;
  g.esz = static_cast<int>(dtypeBytes(dt));
  g.W = vectorBytes / g.esz;
  g.NV = 2;
  g.NR = g.W * g.NV;
  g.MR = vectorBytes == 64 ? 8 : 6; // 16 of 32 or 12 of 16 vector registers hold the tile
  g.KC = 256 * 4 / g.esz;
  g.MC = g.MR * 12;
  g.NC = g.NR * 64;
  g.NB = g.NR * 16;
  if (Kd.isStatic())
    g.KC = std::max<int64_t>(1, std::min(g.KC, Kd.size()));
  if (Md.isStatic()) { // equal M blocks, so that parallel tasks are balanced
    int64_t blocksM = (Md.size() + g.MC - 1) / g.MC;
    g.MC = std::max<int64_t>(
        g.MR, roundUp((Md.size() + blocksM - 1) / std::max<int64_t>(blocksM, 1), g.MR));
  }
  if (Nd.isStatic())
    g.NC = std::max<int64_t>(g.NR, std::min(g.NC, roundUp(Nd.size(), g.NR)));
  return g;
}

} // namespace weft::cpu
