//===- backends/cpu/RecurrentKernel.cpp - the recurrent kernels' layout ---===//
#include "backends/cpu/RecurrentKernel.h"

#include "backends/cpu/MatmulBlocks.h"

#include <algorithm>

namespace weft::cpu {
namespace {

/// Rows the input projection's GEMM should have at least (chunk * B).
constexpr int64_t kProjectionRows = 512;
/// Steps of a chunk where B is symbolic, and at most.
constexpr int64_t kDefaultChunk = 8, kMaxChunk = 16;
/// Rows of a micro-tile at most: B = 64 in whole panels.
constexpr int kMaxTileRows = 8;

int gatesOf(const ir::Op &op) {
  switch (op.kind()) {
  case ir::OpKind::LstmSequence:
    return 4;
  case ir::OpKind::GruSequence:
    return 3;
  case ir::OpKind::RnnSequence:
    return 1;
  default:
    WEFT_UNREACHABLE("not a recurrent sequence op");
  }
}

int64_t hiddenOf(const ir::Op &op) { return op.operand(1)->type().dim(1).size(); }

} // namespace

RecurrentKernelShape recurrentKernelShape(const ir::Op &op, int vectorBytes) {
  const ir::Type &xt = op.operand(0)->type();
  const int64_t hidden = hiddenOf(op);
  RecurrentKernelShape s;
  s.gates = gatesOf(op);
  s.W = vectorBytes / static_cast<int>(dtypeBytes(xt.dtype()));
  // One gate alone makes a thin tile (a broadcast per multiply-add): the RNN's strips hold two
  // vectors of units.
  s.unitVectors = s.gates == 1 ? 2 : 1;
  s.U = s.W * s.unitVectors;
  s.NV = s.gates * s.unitVectors;
  // MR * NV accumulators, NV row vectors of B and a broadcast in 32 (AVX-512) or 16 vector
  // registers: the LSTM's 6 or 2 rows, the GRU's 8 or 4.
  const int registers = vectorBytes == 64 ? 32 : 16;
  s.MR = std::clamp((registers - 1 - s.NV) / s.NV, 1, kMaxTileRows);
  s.strips = std::max<int64_t>(1, (hidden + s.U - 1) / s.U);
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

ir::Dim recurrentProjectionRows(const ir::Op &op, int vectorBytes) {
  return ir::Dim(recurrentKernelShape(op, vectorBytes).chunk) * op.operand(0)->type().dim(1);
}

std::vector<ir::Type> recurrentKernelScratch(const ir::Op &op, int vectorBytes) {
  const ir::Type &xt = op.operand(0)->type();
  DType dt = xt.dtype();
  const int64_t hidden = hiddenOf(op);
  RecurrentKernelShape s = recurrentKernelShape(op, vectorBytes);
  const int64_t N = s.gates * hidden;
  GemmBlocks g =
      gemmBlocks(dt, vectorBytes, recurrentProjectionRows(op, vectorBytes), xt.dim(2), ir::Dim(N));
  int64_t wxp = g.KC * g.NC;
  if (s.prepackWx) {
    int64_t I = xt.dim(2).size();
    wxp *= std::max<int64_t>(1, ((N + g.NC - 1) / g.NC) * ((I + g.KC - 1) / g.KC));
  }
  std::vector<ir::Type> out = {ir::Type({ir::Dim(s.chunk), xt.dim(1), ir::Dim(N)}, dt),
                               ir::Type({wxp}, dt),
                               ir::Type({s.strips * hidden * s.gates * s.U}, dt),
                               ir::Type({ir::Dim(2), xt.dim(1), ir::Dim(hidden)}, dt)};
  if (op.kind() == ir::OpKind::GruSequence && !op.linearBeforeReset())
    out.push_back(ir::Type({xt.dim(1), ir::Dim(hidden)}, dt));
  return out;
}

} // namespace weft::cpu
