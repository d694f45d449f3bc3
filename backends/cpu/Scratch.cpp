//===- backends/cpu/Scratch.cpp - the CPU emitter's scratch model ---------===//
#include "backends/cpu/Scratch.h"

#include "backends/cpu/GruRnnGradKernel.h"
#include "backends/cpu/LstmAttentionStepKernel.h"
#include "backends/cpu/LstmGradKernel.h"
#include "backends/cpu/MatmulBlocks.h"
#include "backends/cpu/Prepack.h"
#include "backends/cpu/RecurrentKernel.h"
#include "ir/Infer.h"

namespace weft::cpu {
namespace {

using ir::OpKind;

/// Whether `y` is carry `j` (j < numCarry) of the loop whose body is `body`, other than `i`.
bool isOtherCarry(const ir::Value *y, const ir::Block &body, size_t numCarry, size_t i) {
  for (size_t j = 0; j < numCarry && j < body.numArgs(); ++j)
    if (y == body.arg(j))
      return j != i;
  return false;
}

/// Staging copies of the yielded carries [first, first + numCarry) that are other carries.
void carryStaging(const ir::Op &yield, const ir::Block &body, size_t first, size_t numCarry,
                  std::vector<ir::Type> &out) {
  for (size_t i = 0; i < numCarry; ++i) {
    const ir::Value *y = yield.operand(first + i);
    if (isOtherCarry(y, body, numCarry, i))
      out.push_back(y->type());
  }
}

/// The weights `loop` packs before its first trip (Prepack.h): the B operands of matmuls in its
/// body, then the strips of its lstm_attention_steps.
void packedBs(const ir::Op &loop, int vectorBytes, std::vector<ir::Type> &out) {
  for (const ir::Op *mm : matmulsPackedBeforeLoop(loop))
    out.push_back(packedBType(*mm, vectorBytes));
  for (const ir::Op *step : stepsPackedBeforeLoop(loop))
    for (const ir::Type &t : lstmAttentionStepScratch(*step, vectorBytes))
      out.push_back(t);
}

/// `t` with its last two dims swapped.
ir::Type transposedRows(const ir::Type &t) {
  std::vector<ir::Dim> dims(t.dims().begin(), t.dims().end());
  std::swap(dims[dims.size() - 2], dims[dims.size() - 1]);
  return ir::Type(std::move(dims), t.dtype());
}

std::vector<ir::Type> scratchOf(const ir::Op &op, int vectorBytes) {
  std::vector<ir::Type> out;
  const ir::Type *rt = op.numResults() ? &op.result(0)->type() : nullptr;
  switch (op.kind()) {
  case OpKind::ReduceSum:
  case OpKind::ReduceMean:
    if (isFloat(rt->dtype()) && rt->dtype() != DType::F64) // float sums accumulate in double
      out.push_back(rt->withDType(DType::F64));
    break;
  case OpKind::Matmul: {
    const ir::Type &at = op.operand(0)->type(), &bt = op.operand(1)->type();
    int64_t r = at.rank();
    const ir::Dim &Md = at.dim(r - 2);
    bool small = Md.isStatic() && Md.size() >= 1 && Md.size() <= kSmallMatmulRows;
    if (!isFloat(rt->dtype()) || small || packsBBeforeLoop(op))
      break;
    GemmBlocks g = gemmBlocks(rt->dtype(), vectorBytes, Md, at.dim(r - 1), bt.dim(r - 1));
    out.push_back(ir::Type({g.KC * g.NC}, rt->dtype()));
    break;
  }
  case OpKind::Attention:
    out.push_back(transposedRows(op.operand(1)->type())); // kᵀ (EmitAttention.cpp)
    break;
  case OpKind::AttentionGrad: { // lse and D, one per query row, then kᵀ and vᵀ
    const ir::Type &q = op.operand(0)->type();
    ir::Type row(std::vector<ir::Dim>(q.dims().begin(), q.dims().end() - 1), q.dtype());
    out.push_back(row);
    out.push_back(row);
    out.push_back(transposedRows(op.operand(1)->type()));
    out.push_back(transposedRows(op.operand(2)->type()));
    break;
  }
  case OpKind::LstmSequence: // their own kernels' buffers (RecurrentKernel.h)
  case OpKind::GruSequence:
  case OpKind::RnnSequence:
    out = recurrentKernelScratch(op, vectorBytes);
    break;
  case OpKind::LstmAttentionStep: // its weights in strips (LstmAttentionStepKernel.h)
    if (!packsStepWeightsBeforeLoop(op))
      out = lstmAttentionStepScratch(op, vectorBytes);
    break;
  case OpKind::LstmSequenceGrad: // LstmGradKernel.h
    out = lstmGradKernelScratch(op, vectorBytes);
    break;
  case OpKind::GruSequenceGrad: // GruRnnGradKernel.h
  case OpKind::RnnSequenceGrad:
    out = gruRnnGradKernelScratch(op, vectorBytes);
    break;
  case OpKind::Scan: {
    packedBs(op, vectorBytes, out);
    auto g = ir::scanOperands(op.numOperands(), op.attrs());
    if (g)
      carryStaging(*op.region().back(), op.region(), 0, g->numCarry, out);
    break;
  }
  case OpKind::While: {
    const ir::Block &body = op.region();
    const ir::Op &yield = *body.back();
    size_t nc = op.numOperands() - 1;
    packedBs(op, vectorBytes, out);
    if (isOtherCarry(yield.operand(0), body, nc, nc)) // `finished` yielded as a carry
      out.push_back(yield.operand(0)->type());
    carryStaging(yield, body, 1, nc, out);
    break;
  }
  default:
    break;
  }
  return out;
}

} // namespace

analysis::ScratchModel scratchModel(int vectorBytes) {
  return [vectorBytes](const ir::Op &op) { return scratchOf(op, vectorBytes); };
}

} // namespace weft::cpu
