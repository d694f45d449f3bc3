//===- backends/cpu/LstmKernel.h - the lstm_sequence kernel's layout ------===//
//
// The lstm_sequence kernel (EmitLstm.cpp) works in the recurrent kernels' layout
// (RecurrentKernel.h) with G = 4 gates i, f, g, o and strips of one vector of hidden units:
// strip s holds H rows of 4W elements, [wh[k, u] | wh[k, H + u] | wh[k, 2H + u] | wh[k, 3H + u]].
// These names are that layout's for lstm_sequence ops.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cpu/RecurrentKernel.h"

namespace weft::cpu {

using LstmKernelShape = RecurrentKernelShape;

/// The kernel's shape for lstm_sequence `op` and vectors `vectorBytes` wide.
inline LstmKernelShape lstmKernelShape(const ir::Op &op, int vectorBytes) {
  return recurrentKernelShape(op, vectorBytes);
}

/// The rows of the input projection's GEMM, chunk * B (sizes its blocks).
inline ir::Dim lstmProjectionRows(const ir::Op &op, int vectorBytes) {
  return recurrentProjectionRows(op, vectorBytes);
}

/// The scratch buffers of the kernel for lstm_sequence `op` (RecurrentKernel.h's order).
inline std::vector<ir::Type> lstmKernelScratch(const ir::Op &op, int vectorBytes) {
  return recurrentKernelScratch(op, vectorBytes);
}

} // namespace weft::cpu
