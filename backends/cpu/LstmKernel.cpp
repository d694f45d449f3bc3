//===- backends/cpu/LstmKernel.cpp - the lstm_sequence kernel's layout ----===//
#include "backends/cpu/LstmKernel.h"

#include "backends/cpu/MatmulBlocks.h"

namespace weft::cpu {

LstmKernelShape lstmKernelShape(DType dt, int vectorBytes, int64_t hidden) {
  LstmKernelShape s;
  s.W = vectorBytes / static_cast<int>(dtypeBytes(dt));
  // 4 * MR accumulators, 4 row vectors of B and a broadcast: 29 of 32 (AVX-512) or 13 of 16
  // vector registers.
  s.MR = vectorBytes == 64 ? 6 : 2;
  s.strips = std::max<int64_t>(1, (hidden + s.W - 1) / s.W);
  return s;
}

std::vector<ir::Type> lstmKernelScratch(const ir::Op &op, int vectorBytes) {
  const ir::Type &xt = op.operand(0)->type();
  DType dt = xt.dtype();
  const int64_t hidden = op.operand(1)->type().dim(1).size();
  LstmKernelShape s = lstmKernelShape(dt, vectorBytes, hidden);
  GemmBlocks g = gemmBlocks(dt, vectorBytes, xt.dim(0) * xt.dim(1), xt.dim(2), 4 * hidden);
  return {ir::Type({xt.dim(0), xt.dim(1), ir::Dim(4 * hidden)}, dt), ir::Type({g.KC * g.NC}, dt),
          ir::Type({s.strips * hidden * 4 * s.W}, dt),
          ir::Type({ir::Dim(2), xt.dim(1), ir::Dim(hidden)}, dt)};
}

} // namespace weft::cpu
