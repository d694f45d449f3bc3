//===- ir/ScanEmit.cpp ----------------------------------------------------===//
#include "ir/ScanEmit.h"

#include <algorithm>

namespace weft::ir {

Value *stackedEmit(Op &scan, Value *v) {
  WEFT_CHECK(scan.kind() == OpKind::Scan, "stackedEmit needs a scan");
  size_t numCarry = static_cast<size_t>(scan.numCarry());
  Op *yield = scan.region().back();
  std::vector<Value *> ys = yield->operands();
  auto emitted = std::find(ys.begin() + numCarry, ys.end(), v);
  if (emitted != ys.end())
    return scan.result(emitted - ys.begin());
  ys.push_back(v);
  yield->setOperands(ys);
  return scan.addResult(v->type().stacked(scan.operand(numCarry)->type().dim(0)));
}

} // namespace weft::ir
