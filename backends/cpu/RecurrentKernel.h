//===- backends/cpu/RecurrentKernel.h - the recurrent kernels' layout -----===//
//
// Free of LLVM: the shapes the lstm_sequence, gru_sequence and rnn_sequence kernels
// (EmitLstm.cpp, EmitGru.cpp, EmitRnn.cpp over RecurrentEmitter.h) work in, shared with the
// scratch model (Scratch.cpp), which sizes their buffers before any code is emitted.
//
// A cell has G gates (LSTM 4: i, f, g, o; GRU 3: r, z, n; RNN 1), column blocks of H in wx
// (I x GH) and wh (H x GH). The recurrent weights are packed once per call in gate-interleaved
// strips: strip s holds the hidden units u = s*U ... s*U + U - 1 (U = unitVectors vector
// lanes) as H rows of G*U elements, [wh[k, u] | wh[k, H + u] | ... | wh[k, (G-1)H + u]], zero
// past unit H - 1. A GEMM micro-tile over one strip (the packed GEMM's, with NV = G *
// unitVectors vectors a row) then holds all gates of U units of MR rows, so the cell's update
// reads them while they are in registers or L1.
//
// The input projection runs as one GEMM per chunk of `chunk` steps (chunk * B rows, enough for
// the GEMM to run near its peak), just before those steps, so that its output is still in cache
// when they read it and the buffer is a chunk's, not the whole sequence's; wx is packed once.
//
// Scratch, in the order the kernels take it:
//   P    [chunk, B, GH]      xs . wx for the steps of one chunk
//   Wxp  wx packed whole (Prepack.h's layout), or with a symbolic I the GEMM's packed-B block
//   Whp  [strips * H * GU]   wh packed as above
//   h    [2, B, H]           h before and after a step (swapped each step)
//   rh   [B, H]              gru_sequence in Cho's form only: r * h, the n gate's GEMM operand
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <vector>

namespace weft::cpu {

struct RecurrentKernelShape {
  int gates = 4;         // column blocks of wx and wh
  int W = 8;             // vector lanes
  int unitVectors = 1;   // vectors of hidden units a strip holds
  int U = 8;             // hidden units a strip holds: W * unitVectors
  int MR = 6;            // rows of a micro-tile
  int NV = 4;            // vectors of a micro-tile row: gates * unitVectors
  int64_t strips = 1;    // ceil(H / U)
  int64_t chunk = 8;     // steps whose input projection is one GEMM
  bool prepackWx = true; // wx packed whole before the loop (its rows, I, are static)
};

/// The kernel's shape for lstm_sequence, gru_sequence or rnn_sequence `op` and vectors
/// `vectorBytes` wide.
RecurrentKernelShape recurrentKernelShape(const ir::Op &op, int vectorBytes);

/// The rows of the input projection's GEMM, chunk * B (sizes its blocks).
ir::Dim recurrentProjectionRows(const ir::Op &op, int vectorBytes);

/// The scratch buffers of the kernel for `op`, in the order above.
std::vector<ir::Type> recurrentKernelScratch(const ir::Op &op, int vectorBytes);

} // namespace weft::cpu
