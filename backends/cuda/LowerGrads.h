//===- backends/cuda/LowerGrads.h - the fused ops' gradients as steps ------===//
//
// Internal to backends/cuda. attention_grad (LowerAttentionGrad.cpp), lstm_sequence_grad
// (LowerLstmGrad.cpp) and lstm_attention_step (LowerLstmAttentionStep.cpp) each lower to several
// kernels over scratch of their own; Lowering.cpp's Lowerer dispatches to them with what they need
// of it (OpLowering.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/OpLowering.h"

#include <vector>

namespace weft::cuda::detail {

/// The scratch attention_grad and lstm_sequence_grad need, for the buffer plan; none for other
/// ops.
std::vector<ir::Type> gradScratch(const ir::Op &op);

/// attention_grad's scratch: stats[..., Tq, 3] in f64.
std::vector<ir::Type> attentionGradScratch(const ir::Op &op);
/// attention_grad: a stats pass, then dk and dv per key row, then dq per query row.
Expected<std::vector<Step>> lowerAttentionGrad(OpLowering &l, const ir::Op &op);

/// lstm_sequence_grad's scratch: the recomputed forward and the stacked gate gradients.
std::vector<ir::Type> lstmGradScratch(const ir::Op &op);
/// lstm_sequence_grad: the gates recomputed for every step at once, a loop the host runs of one
/// gate-gradient kernel and one matmul per step, then the weight gradients at once.
Expected<std::vector<Step>> lowerLstmSequenceGrad(OpLowering &l, const ir::Op &op);

/// lstm_attention_step's scratch: x wx, h wh, the context and (Bahdanau) the query h2 wq.
std::vector<ir::Type> lstmAttentionStepScratch(const ir::Op &op);
/// lstm_attention_step: the gate matmuls, a cell kernel, the query matmul, the attention and the
/// attention vector (LowerLstmAttentionStep.cpp).
Expected<std::vector<Step>> lowerLstmAttentionStep(OpLowering &l, const ir::Op &op);

} // namespace weft::cuda::detail
