//===- backends/cpu/LstmKernel.cpp - the lstm_sequence kernel's layout ----===//
#include "backends/cpu/LstmKernel.h"

#include "backends/cpu/MatmulBlocks.h"

#include <algorithm>

namespace weft::cpu {
namespace {

/// Rows the input projection's GEMM should have at least (chunk * B).
constexpr int64_t kProjectionRows = 512;
/// Steps of a chunk where B is symbolic, and at most.
constexpr int64_t kDefaultChunk = 8, kMaxChunk = 16;

} // namespace

LstmKernelShape lstmKernelShape(const ir::Op &op, int vectorBytes) {
  const ir::Type &xt = op.operand(0)->type();
  const int64_t hidden = op.operand(1)->type().dim(1).size();
  LstmKernelShape s;
  s.W = vectorBytes / static_cast<int>(dtypeBytes(xt.dtype()));
  // 4 * MR accumulators, 4 row vectors of B and a broadcast: 29 of 32 (AVX-512) or 13 of 16
  // vector registers.
  s.MR = vectorBytes == 64 ? 6 : 2;
  s.strips = std::max<int64_t>(1, (hidden + s.W - 1) / s.W);
  const ir::Dim &T = xt.dim(0), &B = xt.dim(1);
  s.chunk =
      B.isStatic()
          ? std::clamp<int64_t>((kProjectionRows + B.size() - 1) / std::max<int64_t>(B.size(), 1),
                                1, kMaxChunk)
          : kDefaultChunk;
  if (T.isStatic())
    s.chunk = std::max<int64_t>(1, std::min(s.chunk, T.size()));
  s.prepackWx = xt.dim(2).isStatic();
  return s;
}

ir::Dim lstmProjectionRows(const ir::Op &op, int vectorBytes) {
  return ir::Dim(lstmKernelShape(op, vectorBytes).chunk) * op.operand(0)->type().dim(1);
}

std::vector<ir::Type> lstmKernelScratch(const ir::Op &op, int vectorBytes) {
  const ir::Type &xt = op.operand(0)->type();
  DType dt = xt.dtype();
  const int64_t hidden = op.operand(1)->type().dim(1).size();
  LstmKernelShape s = lstmKernelShape(op, vectorBytes);
  GemmBlocks g =
      gemmBlocks(dt, vectorBytes, lstmProjectionRows(op, vectorBytes), xt.dim(2), 4 * hidden);
  int64_t wxp = g.KC * g.NC;
  if (s.prepackWx) {
    int64_t I = xt.dim(2).size(), N = 4 * hidden;
    wxp *= std::max<int64_t>(1, ((N + g.NC - 1) / g.NC) * ((I + g.KC - 1) / g.KC));
  }
  return {ir::Type({ir::Dim(s.chunk), xt.dim(1), ir::Dim(4 * hidden)}, dt), ir::Type({wxp}, dt),
          ir::Type({s.strips * hidden * 4 * s.W}, dt),
          ir::Type({ir::Dim(2), xt.dim(1), ir::Dim(hidden)}, dt)};
}

} // namespace weft::cpu
