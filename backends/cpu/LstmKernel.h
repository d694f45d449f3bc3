//===- backends/cpu/LstmKernel.h - the lstm_sequence kernel's layout ------===//
//
// Free of LLVM: the shapes the lstm_sequence kernel (EmitLstm.cpp) works in,
// shared with the scratch model (Scratch.cpp), which sizes its buffers before
// any code is emitted.
//
// The recurrent weights wh (H x 4H, gates i, f, g, o as column blocks) are
// packed once per call in gate-interleaved strips: strip s holds the hidden
// units u = s*W ... s*W + W - 1 (W the vector's lanes) as H rows of 4W
// elements, [wh[k, u] | wh[k, H + u] | wh[k, 2H + u] | wh[k, 3H + u]], zero
// past unit H - 1. A GEMM micro-tile over one strip (the packed GEMM's, with
// NV = 4 vectors a row) then holds all four gates of W units of MR rows, so
// the cell's update reads them while they are in registers or L1.
//
// The input projection runs as one GEMM per chunk of `chunk` steps (chunk * B rows, enough for
// the GEMM to run near its peak), just before those steps, so that its output is still in cache
// when they read it and the buffer is a chunk's, not the whole sequence's; wx is packed once.
//
// Scratch, in the order the kernel takes it:
//   P    [chunk, B, 4H]      xs . wx for the steps of one chunk
//   Wxp  wx packed whole (Prepack.h's layout), or with a symbolic I the GEMM's packed-B block
//   Whp  [strips * H * 4W]   wh packed as above
//   h    [2, B, H]           h before and after a step (swapped each step)
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <vector>

namespace weft::cpu {

struct LstmKernelShape {
  int W = 8;             // vector lanes: hidden units a strip holds
  int MR = 6;            // rows of a micro-tile
  int NV = 4;            // vectors of a micro-tile row: one per gate
  int64_t strips = 1;    // ceil(H / W)
  int64_t chunk = 8;     // steps whose input projection is one GEMM
  bool prepackWx = true; // wx packed whole before the loop (its rows, I, are static)
};

/// The kernel's shape for lstm_sequence `op` and vectors `vectorBytes` wide.
LstmKernelShape lstmKernelShape(const ir::Op &op, int vectorBytes);

/// The rows of the input projection's GEMM, chunk * B (sizes its blocks).
ir::Dim lstmProjectionRows(const ir::Op &op, int vectorBytes);

/// The scratch buffers of the kernel for lstm_sequence `op`, in the order above.
std::vector<ir::Type> lstmKernelScratch(const ir::Op &op, int vectorBytes);

} // namespace weft::cpu
