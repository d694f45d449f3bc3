//===- backends/cuda/GruRnnGradKernels.h - gru/rnn_sequence_grad's elementwise kernels -===//
//
// The kernels LowerGruRnnGrad.cpp puts between its matmuls, for T steps of B examples with H
// hidden units in dtype `t` (f32 or f64); the gates are r, z, n (G = 3H) for a GRU, one (G = H)
// for an RNN. Each thread takes elements (b, j) of a [rows, H] domain, striding; arithmetic in
// double, as eval/GruRnnSequenceGrad.cpp's, rounded once to the op's dtype. The previous
// states of every step come from emitLstmPreviousStateKernel (GradKernels.h), shared with the
// LSTM.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/Kernels.h"

namespace weft::cuda {

/// One RNN step's pre-activation gradient, `void name(ptr da, ptr h, ptr dhs, ptr dh, i64 n,
/// i64 H)` over n = B H elements, from the step's h = f(a) (the forward's hs, so nothing is
/// recomputed): da = (dh + dhs) (1 - h^2), or with `relu` (dh + dhs) where h > 0, else 0.
Expected<llvm::Function *> emitRnnStepGradKernel(llvm::Module &m, const std::string &name,
                                                 KernelTarget target, DType t, bool relu);

/// The GRU's gates of every step at once, `void name(ptr act, ptr gh, ptr bx, ptr bh, ptr hp,
/// ptr rh, i64 n, i64 H)` over n = T B H elements (a row of act and gh is 3H long): act holds
/// x wx, gh hp wh; in place, act's r and z = sigmoid(act + bx + gh + bh).
/// `linearBeforeReset` (PyTorch's n): gh's n = gh + bh (the recurrent projection the step
/// gradient reads) and act's n = tanh(act + bx + r gh's n). Cho's: act's n = act + bx (the
/// input part, finished by emitGruChoNewGateKernel) and rh[row, j] = r hp, the left operand of
/// the n gate's recurrent product.
Expected<llvm::Function *> emitGruGatesKernel(llvm::Module &m, const std::string &name,
                                              KernelTarget target, DType t, bool linearBeforeReset);

/// Cho's r hp from saved gates, `void name(ptr rh, ptr act, ptr hp, i64 n, i64 H)` over
/// n = T B H elements: rh[row, j] = act's r times hp[row, j] (gru_sequence_grad {save_gates},
/// whose act the forward saved).
Expected<llvm::Function *> emitGruResetHiddenKernel(llvm::Module &m, const std::string &name,
                                                    KernelTarget target, DType t);

/// Cho's n gate, `void name(ptr act, ptr ghn, ptr bh, i64 n, i64 H)` over n = T B H elements:
/// act's n = tanh(act's n + ghn[row, j] + bh[2H + j]), where ghn = (r hp) wh_n.
Expected<llvm::Function *> emitGruChoNewGateKernel(llvm::Module &m, const std::string &name,
                                                   KernelTarget target, DType t);

/// One GRU step's gate gradients, PyTorch's form, `void name(ptr dgx, ptr dgh, ptr dhz,
/// ptr act, ptr gh, ptr hp, ptr dhs, ptr dh, i64 n, i64 H)` over n = B H elements:
///   dh' = dh + dhs;  dn = dh' (1 - z)(1 - n^2);  dz = dh' (hp - n) z (1 - z)
///   dr = dn ghn r (1 - r);  dgx = (dr, dz, dn);  dgh = (dr, dz, dn r);  dhz = dh' z
/// (ghn: gh's n column, as emitGruGatesKernel left it).
Expected<llvm::Function *> emitGruGateGradKernel(llvm::Module &m, const std::string &name,
                                                 KernelTarget target, DType t);

/// One GRU step's z and n gradients, Cho's form, `void name(ptr dg, ptr dgrz, ptr dn, ptr dhz,
/// ptr act, ptr hp, ptr dhs, ptr dh, i64 n, i64 H)` over n = B H elements: dh', dn and dz as
/// PyTorch's; dg[B, 3H] gets dz and dn, dgrz[B, 2H] dz, dn[B, H] dn, and dhz = dh' z.
Expected<llvm::Function *> emitGruChoGateGradKernel(llvm::Module &m, const std::string &name,
                                                    KernelTarget target, DType t);

/// One GRU step's r gradient, Cho's form, `void name(ptr dg, ptr dgrz, ptr dhz, ptr act,
/// ptr hp, ptr drh, i64 n, i64 H)` over n = B H elements, with drh = dn wh_n^T:
///   dr = drh hp r (1 - r) into dg's and dgrz's r column;  dhz += drh r
Expected<llvm::Function *> emitGruChoResetGradKernel(llvm::Module &m, const std::string &name,
                                                     KernelTarget target, DType t);

/// `void name(ptr y, ptr x, i64 n)`: y[i] += x[i] for i < n, in the op's dtype.
Expected<llvm::Function *> emitAccumulateKernel(llvm::Module &m, const std::string &name,
                                                KernelTarget target, DType t);

} // namespace weft::cuda
