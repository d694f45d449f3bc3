//===- backends/cpu/LstmGradKernel.cpp - lstm_sequence_grad's scratch -----===//
#include "backends/cpu/LstmGradKernel.h"

#include "backends/cpu/MatmulBlocks.h"

#include <algorithm>

namespace weft::cpu {

std::vector<ir::Type> lstmGradKernelScratch(const ir::Op &op, int vectorBytes) {
  const ir::Type &xt = op.operand(0)->type();
  const DType dt = xt.dtype();
  const ir::Dim &T = xt.dim(0), &B = xt.dim(1), &I = xt.dim(2);
  const int64_t H = op.operand(1)->type().dim(1).size();
  const ir::Dim TB = T * B, Hd(H), G(4 * H);
  // WhT packed whole for dh = dz[t] (B x 4H) . WhT (4H x H), as emitPackB lays it out.
  GemmBlocks step = gemmBlocks(dt, vectorBytes, B, G, Hd);
  int64_t packed =
      step.KC * step.NC *
      std::max<int64_t>(1, ((H + step.NC - 1) / step.NC) * ((4 * H + step.KC - 1) / step.KC));
  // The GEMMs that pack B block by block share one block buffer.
  int64_t block = 0;
  for (GemmBlocks g :
       {gemmBlocks(dt, vectorBytes, TB, I, G), gemmBlocks(dt, vectorBytes, TB, Hd, G),
        gemmBlocks(dt, vectorBytes, I, TB, G), gemmBlocks(dt, vectorBytes, Hd, TB, G),
        gemmBlocks(dt, vectorBytes, TB, G, I)})
    block = std::max(block, g.KC * g.NC);
  auto t = [dt](std::vector<ir::Dim> dims) { return ir::Type(std::move(dims), dt); };
  // The training form reads the gates and C from its operands: no Zh, no C of its own.
  const ir::Dim recomputed = op.saveGates() ? ir::Dim(0) : T;
  return {t({T, B, Hd}),
          t({T, B, G}),
          t({recomputed, B, G}),
          t({recomputed, B, Hd}),
          t({I, TB}),
          t({Hd, TB}),
          t({G, Hd}),
          t({ir::Dim(packed)}),
          t({G, I}),
          t({ir::Dim(2), B, Hd}),
          t({B, Hd}),
          t({ir::Dim(block)})};
}

} // namespace weft::cpu
