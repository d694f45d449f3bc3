//===- backends/cpu/Prepack.cpp - weights packed once, before their loop --===//
#include "backends/cpu/Prepack.h"

#include "backends/cpu/LstmAttentionStepKernel.h"
#include "backends/cpu/MatmulBlocks.h"

#include <algorithm>

namespace weft::cpu {
namespace {

/// Whether `v` is an argument of `body` or the result of an op directly in it.
bool definedIn(const ir::Value *v, const ir::Block &body) {
  if (v->isBlockArg())
    return v->ownerBlock() == &body;
  return v->definingOp()->parentBlock() == &body;
}

/// The scan or while whose body holds `op` directly, or nullptr.
const ir::Op *enclosingLoop(const ir::Op &op) {
  const ir::Block *body = op.parentBlock();
  const ir::Op *loop = body ? body->parentOp() : nullptr;
  return loop && (loop->kind() == ir::OpKind::Scan || loop->kind() == ir::OpKind::While) ? loop
                                                                                         : nullptr;
}

} // namespace

bool packsBBeforeLoop(const ir::Op &mm) {
  if (mm.kind() != ir::OpKind::Matmul || !isFloat(mm.result()->type().dtype()))
    return false;
  const ir::Block *body = mm.parentBlock();
  if (!enclosingLoop(mm))
    return false;
  const ir::Type &at = mm.operand(0)->type(), &bt = mm.operand(1)->type();
  if (at.rank() != 2 || !bt.dim(0).isStatic() || !bt.dim(1).isStatic())
    return false;
  const ir::Dim &Md = at.dim(0);
  if (Md.isStatic() && Md.size() >= 1 && Md.size() <= kSmallMatmulRows)
    return false; // the small-M kernel reads B in place
  return !definedIn(mm.operand(1), *body);
}

std::vector<const ir::Op *> matmulsPackedBeforeLoop(const ir::Op &loop) {
  std::vector<const ir::Op *> out;
  for (const auto &op : loop.region().ops())
    if (packsBBeforeLoop(*op))
      out.push_back(op.get());
  return out;
}

bool packsStepWeightsBeforeLoop(const ir::Op &step) {
  if (step.kind() != ir::OpKind::LstmAttentionStep || !enclosingLoop(step))
    return false;
  // The strips' sizes do not depend on the vector width, only whether there are any.
  if (lstmAttentionStepScratch(step, 32).empty())
    return false;
  for (size_t i : lstmAttentionPackedOperands(step))
    if (definedIn(step.operand(i), *step.parentBlock()))
      return false;
  return true;
}

std::vector<const ir::Op *> stepsPackedBeforeLoop(const ir::Op &loop) {
  std::vector<const ir::Op *> out;
  for (const auto &op : loop.region().ops())
    if (packsStepWeightsBeforeLoop(*op))
      out.push_back(op.get());
  return out;
}

ir::Type packedBType(const ir::Op &mm, int vectorBytes) {
  const ir::Type &at = mm.operand(0)->type(), &bt = mm.operand(1)->type();
  DType dt = mm.result()->type().dtype();
  GemmBlocks g = gemmBlocks(dt, vectorBytes, at.dim(0), bt.dim(0), bt.dim(1));
  int64_t K = bt.dim(0).size(), N = bt.dim(1).size();
  int64_t blocks = ((N + g.NC - 1) / g.NC) * ((K + g.KC - 1) / g.KC);
  return ir::Type({std::max<int64_t>(1, blocks) * g.KC * g.NC}, dt);
}

} // namespace weft::cpu
