//===- backends/cuda/OpLowering.cpp - what ops lowered apart share ----------===//
#include "backends/cuda/OpLowering.h"

#include "backends/cuda/LowerGrads.h"
#include "backends/cuda/LowerGruRnnGrad.h"

#include <fmt/format.h>

namespace weft::cuda::detail {

std::string describeOp(const ir::Op &op) {
  return op.loc().known() ? fmt::format("'{}' ({})", op.name(), op.loc().str())
                          : fmt::format("'{}'", op.name());
}

std::string OpLowering::kernelName(const ir::Op &op) const {
  return fmt::format("{}_{}_{}", function, names.size(), op.name());
}

std::string OpLowering::kernelName(const ir::Op &op, const std::string &suffix) const {
  return fmt::format("{}_{}_{}_{}", function, names.size(), op.name(), suffix);
}

size_t OpLowering::addKernel(const std::string &name) {
  names.push_back(name);
  return names.size() - 1;
}

Step OpLowering::step(const ir::Op &op, Step::Kind kind) const {
  Step s;
  s.kind = kind;
  s.what = describeOp(op);
  return s;
}

Step OpLowering::kernelStep(const ir::Op &op, const std::string &name, std::vector<int> slots,
                            LaunchPlan launch) {
  Step s = step(op, Step::Kind::Kernel);
  s.kernel = addKernel(name);
  s.slots = std::move(slots);
  s.launch = std::move(launch);
  return s;
}

Expected<LoopCopy> OpLowering::loopCopy(const ir::Op &op, const std::string &suffix, int from,
                                        int to, const ir::Type &type, LoopCopyMask mask) {
  std::string name = kernelName(op, suffix);
  WEFT_TRY(
      emitLoopCopyKernel(*km.module, name, target, static_cast<int>(dtypeBytes(type.dtype())), mask)
          .status());
  LoopCopy c;
  c.kernel = addKernel(name);
  c.from = from;
  c.to = to;
  c.type = type;
  return c;
}

std::vector<ir::Type> gradScratch(const ir::Op &op) {
  switch (op.kind()) {
  case ir::OpKind::AttentionGrad:
    return attentionGradScratch(op);
  case ir::OpKind::LstmSequenceGrad:
    return lstmGradScratch(op);
  case ir::OpKind::LstmAttentionStep:
    return lstmAttentionStepScratch(op);
  case ir::OpKind::GruSequenceGrad:
  case ir::OpKind::RnnSequenceGrad:
    return gruRnnGradScratch(op);
  default:
    return {};
  }
}

} // namespace weft::cuda::detail
