//===- backends/cpu/Prepack.cpp - B operands packed once, before their loop -===//
#include "backends/cpu/Prepack.h"

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

} // namespace

bool packsBBeforeLoop(const ir::Op &mm) {
  if (mm.kind() != ir::OpKind::Matmul || !isFloat(mm.result()->type().dtype()))
    return false;
  const ir::Block *body = mm.parentBlock();
  const ir::Op *loop = body ? body->parentOp() : nullptr;
  if (!loop || (loop->kind() != ir::OpKind::Scan && loop->kind() != ir::OpKind::While))
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

ir::Type packedBType(const ir::Op &mm, int vectorBytes) {
  const ir::Type &at = mm.operand(0)->type(), &bt = mm.operand(1)->type();
  DType dt = mm.result()->type().dtype();
  GemmBlocks g = gemmBlocks(dt, vectorBytes, at.dim(0), bt.dim(0), bt.dim(1));
  int64_t K = bt.dim(0).size(), N = bt.dim(1).size();
  int64_t blocks = ((N + g.NC - 1) / g.NC) * ((K + g.KC - 1) / g.KC);
  return ir::Type({std::max<int64_t>(1, blocks) * g.KC * g.NC}, dt);
}

} // namespace weft::cpu
