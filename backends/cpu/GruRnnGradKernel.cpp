//===- backends/cpu/GruRnnGradKernel.cpp - gru/rnn_sequence_grad's scratch ===//
#include "backends/cpu/GruRnnGradKernel.h"

#include "backends/cpu/MatmulBlocks.h"

#include <algorithm>

namespace weft::cpu {
namespace {

/// Elements of B (K x N, static) packed whole by emitPackB for a GEMM of M rows.
int64_t packedSize(DType dt, int vectorBytes, const ir::Dim &M, int64_t K, int64_t N) {
  GemmBlocks g = gemmBlocks(dt, vectorBytes, M, ir::Dim(K), ir::Dim(N));
  return g.KC * g.NC * std::max<int64_t>(1, ((N + g.NC - 1) / g.NC) * ((K + g.KC - 1) / g.KC));
}

} // namespace

std::vector<ir::Type> gruRnnGradKernelScratch(const ir::Op &op, int vectorBytes) {
  const bool gru = op.kind() == ir::OpKind::GruSequenceGrad;
  const bool cho = gru && !op.linearBeforeReset();
  // The training form reads the forward's gates: no GEMMs over all rows recompute them.
  const bool recompute = gru && !op.saveGates();
  const ir::Type &xt = op.operand(0)->type();
  const DType dt = xt.dtype();
  const ir::Dim &T = xt.dim(0), &B = xt.dim(1), &I = xt.dim(2);
  const int64_t H = op.operand(1)->type().dim(1).size(), GH = (gru ? 3 : 1) * H;
  const ir::Dim TB = T * B, Hd(H), G(GH);
  // The GEMMs that pack B block by block share one block buffer.
  std::vector<GemmBlocks> gemms = {gemmBlocks(dt, vectorBytes, I, TB, G),
                                   gemmBlocks(dt, vectorBytes, Hd, TB, G),
                                   gemmBlocks(dt, vectorBytes, TB, G, I)};
  if (recompute) {
    gemms.push_back(gemmBlocks(dt, vectorBytes, TB, I, G));
    gemms.push_back(gemmBlocks(dt, vectorBytes, TB, Hd, G));
  }
  if (cho && recompute)
    gemms.push_back(gemmBlocks(dt, vectorBytes, TB, Hd, Hd));
  if (cho) {
    gemms.push_back(gemmBlocks(dt, vectorBytes, Hd, TB, ir::Dim(2 * H)));
    gemms.push_back(gemmBlocks(dt, vectorBytes, Hd, TB, Hd));
  }
  int64_t block = 0;
  for (const GemmBlocks &g : gemms)
    block = std::max(block, g.KC * g.NC);
  auto t = [dt](std::vector<ir::Dim> dims) { return ir::Type(std::move(dims), dt); };
  std::vector<ir::Type> out = {t({T, B, Hd}), t({T, B, G}),       t({I, TB}),
                               t({Hd, TB}),   t({G, I}),          t({ir::Dim(2), B, Hd}),
                               t({B, Hd}),    t({ir::Dim(block)})};
  if (!gru) {
    out.push_back(t({Hd, Hd}));
    out.push_back(t({ir::Dim(packedSize(dt, vectorBytes, B, H, H))}));
    return out;
  }
  // Zh: Cho's training form has no recurrent projection to hold (one element: the list keeps
  // its order).
  out.push_back(cho && !recompute ? t({ir::Dim(1)}) : t({T, B, G}));
  if (!cho) {
    out.push_back(t({G, Hd}));
    out.push_back(t({ir::Dim(packedSize(dt, vectorBytes, B, GH, H))}));
    return out;
  }
  const ir::Dim H2(2 * H);
  out.push_back(t({H2, Hd}));
  out.push_back(t({ir::Dim(packedSize(dt, vectorBytes, B, 2 * H, H))}));
  out.push_back(t({Hd, Hd}));
  out.push_back(t({ir::Dim(packedSize(dt, vectorBytes, B, H, H))}));
  out.push_back(recompute ? t({Hd, Hd}) : t({ir::Dim(1)})); // Whn: B of the recomputed n's GEMM
  out.push_back(t({T, B, Hd}));
  out.push_back(t({Hd, TB}));
  out.push_back(t({T, B, H2}));
  out.push_back(t({T, B, Hd}));
  out.push_back(t({Hd, H2}));
  out.push_back(t({Hd, Hd}));
  return out;
}

} // namespace weft::cpu
