//===- backends/cuda/LowerElementwise.cpp - ops that compute each element alone ===//
//
// elementwise ops and fusions, one kernel over the result (a fusion's domain), with a status
// word per integer division checked after it; iota and random_*, one kernel over the result;
// constant, an upload. Lowering.cpp dispatches here.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/LowerOps.h"
#include "eval/Evaluate.h"
#include "ir/Fusion.h"
#include "runtime/CudaAotSteps.h"

#include <fmt/format.h>

#include <limits>

namespace weft::cuda::detail {
namespace {

using ir::OpKind;

/// Integer divisions (`divisions`, with their status words in `status`): the words set, the
/// kernel, then a check of each word, in order, that reports the first element its division
/// divided by zero in the interpreter's words, naming that division. Code built ahead of time
/// checks the words with DivisionCheck steps (runtime/CudaAotPlan.h).
std::vector<Step> divisionSteps(OpLowering &l, const std::vector<const ir::Op *> &divisions,
                                const std::vector<int> &status, Step kernel) {
  std::vector<Step> steps;
  for (size_t d = 0; d < divisions.size(); ++d) {
    Step reset = l.step(*divisions[d], Step::Kind::Upload);
    Array none(DType::I64, {1});
    none.setInt(0, std::numeric_limits<int64_t>::max());
    reset.constant = std::make_shared<const Array>(std::move(none));
    reset.slots = {status.at(d)};
    steps.push_back(std::move(reset));
  }
  steps.push_back(std::move(kernel));
  for (size_t d = 0; d < divisions.size(); ++d) {
    Step check = l.step(*divisions[d], Step::Kind::Check);
    const int word = status.at(d);
    const ir::Type type = divisions[d]->operand(0)->type();
    check.statusSlot = word;
    check.divided = type;
    check.check = [word, type](Device &dev, const std::function<DeviceAddress(int)> &address,
                               const ir::DimBindings &dims) -> Status {
      int64_t bad = 0;
      WEFT_TRY(dev.download(&bad, address(word), sizeof bad));
      WEFT_TRY(dev.synchronize());
      if (bad == std::numeric_limits<int64_t>::max())
        return Status::ok();
      auto shape = type.evaluateShape(dims);
      WEFT_TRY(shape.status());
      return err(divisionByZeroMessage(bad, typeStr(type.dtype(), *shape)));
    };
    steps.push_back(std::move(check));
  }
  return steps;
}

} // namespace

Expected<std::vector<Step>> lowerElementwise(OpLowering &l, const ir::Op &op) {
  for (const ir::Value *v : op.operands())
    if (v->type().dims() != op.result()->type().dims())
      return err(fmt::format("'{}' on operands of other shapes than its result is not on "
                             "the CUDA backend yet",
                             op.name()),
                 op.loc());
  std::string name = l.kernelName(op);
  WEFT_TRY(emitElementwiseKernel(*l.km.module, op, name, l.target,
                                 l.plan.inPlaceOver(op.result()) != nullptr)
               .status());
  std::vector<int> slots = {l.slot(op.result())};
  for (const ir::Value *v : op.operands())
    slots.push_back(l.slot(v));
  const bool faults = elementwiseFaults(op);
  if (faults)
    slots.push_back(l.plan.scratchOf(op).at(0));
  ir::Type type = op.result()->type();
  Step kernel =
      l.kernelStep(op, name, std::move(slots),
                   [type](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto shape = type.evaluateShape(dims);
                     WEFT_TRY(shape.status());
                     int64_t n = numel(*shape);
                     return Launch{{n}, strided(d, n)};
                   });
  if (!faults)
    return std::vector<Step>{std::move(kernel)};
  return divisionSteps(l, {&op}, l.plan.scratchOf(op), std::move(kernel));
}

/// A fusion: one kernel (FusionKernel.cpp); its scalars from the call's domain.
Expected<std::vector<Step>> lowerFusion(OpLowering &l, const ir::Op &op) {
  auto form = ir::fusionForm(op.region());
  if (!form)
    return err(fmt::format("fusion body is not a kernel: {}", form.diag().message), op.loc());
  bool inPlace = false;
  std::vector<int> slots;
  for (size_t r = 0; r < op.numResults(); ++r) {
    inPlace |= l.plan.inPlaceOver(op.result(r)) != nullptr;
    slots.push_back(l.slot(op.result(r)));
  }
  for (const ir::Value *v : op.operands())
    slots.push_back(l.slot(v));
  const std::vector<const ir::Op *> divisions = fusionDivisions(op);
  const std::vector<int> status = divisions.empty() ? std::vector<int>{} : l.plan.scratchOf(op);
  slots.insert(slots.end(), status.begin(), status.end());
  std::string name = l.kernelName(op);
  WEFT_TRY(emitFusionKernel(*l.km.module, name, l.target, op, inPlace).status());
  // Each broadcast's argument type and dims, in body order; the domain as a type.
  std::vector<std::pair<ir::Type, Shape>> broadcasts;
  bool picks = false;
  DType reducedType = DType::F32;
  for (const auto &inner : op.region().ops()) {
    if (inner->kind() == OpKind::Broadcast)
      broadcasts.push_back({inner->operand(0)->type(), inner->dims()});
    if (inner->kind() == OpKind::ReduceMax || inner->kind() == OpKind::ReduceMin)
      picks = true;
    if (ir::hasTrait(inner->kind(), ir::trait::Reduction))
      reducedType = inner->operand(0)->type().dtype();
  }
  const ir::Type domain(form->domain, reducedType);
  std::vector<bool> reduced(form->domain.size(), false);
  for (int64_t a : form->reduceAxes)
    reduced[static_cast<size_t>(a)] = true;
  LaunchPlan launch = [domain, reduced, broadcasts, picks](const ir::DimBindings &dims,
                                                           const Device &d) -> Expected<Launch> {
    auto shape = domain.evaluateShape(dims);
    WEFT_TRY(shape.status());
    std::vector<int64_t> scalars = reduceScalars(*shape, reduced);
    const int64_t outputs = scalars[0], count = scalars[1];
    if (picks && count == 0 && outputs > 0) // the interpreter's words
      return err(
          fmt::format("cannot reduce {} over an empty axis", typeStr(domain.dtype(), *shape)));
    scalars.insert(scalars.end(), shape->begin(), shape->end());
    for (const auto &[arg, bdims] : broadcasts) {
      auto s = arg.evaluateShape(dims);
      WEFT_TRY(s.status());
      Shape argStrides = rowMajor(*s), strides(shape->size(), 0);
      for (size_t j = 0; j < bdims.size(); ++j)
        if ((*s)[j] != 1)
          strides[static_cast<size_t>(bdims[j])] = argStrides[j];
      scalars.insert(scalars.end(), strides.begin(), strides.end());
    }
    return Launch{std::move(scalars), strided(d, outputs)};
  };
  Step kernel = l.kernelStep(op, name, std::move(slots), std::move(launch));
  if (divisions.empty())
    return std::vector<Step>{std::move(kernel)};
  return divisionSteps(l, divisions, status, std::move(kernel));
}

Expected<std::vector<Step>> lowerIota(OpLowering &l, const ir::Op &op) {
  const ir::Type out = op.result()->type();
  std::string name = l.kernelName(op);
  WEFT_TRY(emitIotaKernel(*l.km.module, name, l.target, out.dtype()).status());
  const auto axis = static_cast<size_t>(op.axis());
  return std::vector<Step>{
      l.kernelStep(op, name, {l.slot(op.result())},
                   [out, axis](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto so = out.evaluateShape(dims);
                     WEFT_TRY(so.status());
                     const int64_t n = numel(*so);
                     return Launch{{n, rowMajor(*so)[axis], (*so)[axis]}, strided(d, n)};
                   })};
}

Expected<std::vector<Step>> lowerRandom(OpLowering &l, const ir::Op &op) {
  const ir::Type out = op.result()->type();
  std::string name = l.kernelName(op);
  WEFT_TRY(
      emitRandomKernel(*l.km.module, name, l.target, out.dtype(), op.kind() == OpKind::RandomNormal)
          .status());
  return std::vector<Step>{
      l.kernelStep(op, name, {l.slot(op.result()), l.slot(op.operand(0))},
                   [out](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto so = out.evaluateShape(dims);
                     WEFT_TRY(so.status());
                     const int64_t n = numel(*so);
                     return Launch{{n}, strided(d, n)};
                   })};
}

Expected<std::vector<Step>> lowerConstant(OpLowering &l, const ir::Op &op) {
  // A constant of a symbolic shape is a splat (the verifier holds it to one value): it is
  // evaluated with every symbol at 1, and its element repeated at run time.
  Step s = l.step(op, Step::Kind::Upload);
  const ir::Type type = op.result()->type();
  ir::DimBindings ones;
  for (const ir::Dim &d : type.dims())
    for (const std::string &sym : d.symbols())
      ones[sym] = 1;
  auto value = eval::evaluateOp(op, {}, ones);
  WEFT_TRY(value.status());
  s.splat = !type.isStatic();
  s.constant = std::make_shared<const Array>(std::move((*value)[0]));
  s.slots = {l.slot(op.result())};
  return std::vector<Step>{std::move(s)};
}

} // namespace weft::cuda::detail
