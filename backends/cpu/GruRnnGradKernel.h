//===- backends/cpu/GruRnnGradKernel.h - gru/rnn_sequence_grad's scratch --===//
//
// Free of LLVM: the buffers of the gru_sequence_grad and rnn_sequence_grad kernel
// (EmitGruRnnGrad.cpp), shared with the scratch model (Scratch.cpp), which sizes them before
// any code is emitted. G gates (GRU 3: r, z, n; RNN 1), TB = T * B rows, one per step and
// example. In the order the kernel takes them:
//   Hp     [T, B, H]    the h each step started from (zero on padded steps)
//   DG     [T, B, GH]   GRU: xs . wx, then the gates r, z, n, then dgx; RNN: da
//   Xt     [I, TB]      xs transposed, Hpt [H, TB] Hp transposed: A of the weight gradients
//   WxT    [GH, I]      wx transposed, B of dxs = DG . wx^T
//   dh     [2, B, H]    the adjoint of h before and after a step (swapped each step)
//   direct [B, H]       the part of a step's dh that is not a GEMM (dh z; all of dh when padded)
//   block  the packed-B block of the GEMMs that pack as they go (the largest of theirs)
// then by cell:
//   rnn:             WhT [H, H] and WhTp, it packed whole for the per-step GEMM
//   gru, PyTorch's:  Zh [T, B, 3H] (Hp . wh, then gh_n, then dgh), WhT [3H, H], WhTp
//   gru, Cho's:      Zh [T, B, 3H] (Hp . wh, then (r hp) . wh_n as [TB, H]), WhrzT [2H, H],
//                    WhrzTp, WhnT [H, H], WhnTp, Whn [H, H] (wh's n columns), RH [T, B, H]
//                    (r hp), RHt [H, TB], DRZ [T, B, 2H] (dr, dz), DN [T, B, H] (dn),
//                    dwhRz [H, 2H], dwhN [H, H]
// {save_gates}' (the training form's) buffers are the same but for what only the recompute
// needs: Cho's Zh and Whn are one element, and the recomputing GEMMs do not size the block.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <vector>

namespace weft::cpu {

/// The scratch buffers of the kernel for gru_sequence_grad or rnn_sequence_grad `op`, in the
/// order above.
std::vector<ir::Type> gruRnnGradKernelScratch(const ir::Op &op, int vectorBytes);

} // namespace weft::cpu
