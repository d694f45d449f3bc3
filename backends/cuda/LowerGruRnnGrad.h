//===- backends/cuda/LowerGruRnnGrad.h - gru/rnn_sequence_grad as host-driven steps -===//
//
// Internal to backends/cuda: LowerGruRnnGrad.cpp's entry points, which Lowering.cpp dispatches
// to and OpLowering.cpp's gradScratch asks for scratch, as for lstm_sequence_grad (LowerGrads.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/LowerGrads.h"

namespace weft::cuda::detail {

/// gru_sequence_grad's and rnn_sequence_grad's scratch: the recomputed forward, the stacked gate
/// gradients and the transposed operands of their matmuls.
std::vector<ir::Type> gruRnnGradScratch(const ir::Op &op);
/// gru_sequence_grad or rnn_sequence_grad: the gates recomputed for every step at once, a loop
/// the host runs of each step's gate gradients and the matmuls that carry dh back, then the
/// weight gradients over all steps at once.
Expected<std::vector<Step>> lowerGruRnnSequenceGrad(OpLowering &l, const ir::Op &op);

} // namespace weft::cuda::detail
