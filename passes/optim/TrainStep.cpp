//===- passes/optim/TrainStep.cpp - one function: forward, gradient, update ===//
//
// The gradient function of the loss (passes/autodiff, wrt the trained
// parameters only) is built as a scratch function, inlined into the step
// function, and removed; the update follows it:
//
//   %loss, %dW, ... = <forward and backward>          (autodiff)
//   %loss, %dW ...  = their means over the processes   (data_parallel, in buckets)
//   %dW' ...        = clipped gradients                (clip_norm)
//   %lr             = schedule(%step)                  (f64 scalar)
//   %W.new, %W.exp_avg.new, ... = rule(%W, %dW', state) (one per parameter)
//   return %loss, <new params>, <new state>
//
//===----------------------------------------------------------------------===//
#include "ir/Clone.h"
#include "passes/autodiff/Autodiff.h"
#include "passes/optim/StepParts.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::optim {

namespace {

/// Gives `v` a name for the IR dump (the printer makes it unique), unless it is a parameter.
ir::Value *named(ir::Value *v, std::string name) {
  if (v->definingOp())
    v->setName(std::move(name));
  return v;
}

} // namespace

Expected<ir::Function *> buildTrainStep(ir::Module &m, const ir::Function &f,
                                        const OptimOptions &options, std::string name) {
  auto o = resolved(options);
  WEFT_TRY(o.status());
  if (name.empty())
    name = f.name() + "_step";
  if (m.function(name))
    return err(fmt::format("optimize-step: module already has a function @{}", name));
  for (size_t i = 0; i < f.numParams(); ++i)
    if (f.param(i)->name() == "step")
      return err(fmt::format("optimize-step: @{} already has a parameter %step, the name of the "
                             "step function's step counter; rename it",
                             f.name()));

  // The trained parameters, in the step function's order.
  std::vector<size_t> trained;
  for (size_t i = 0; o->params.empty() && i < f.numParams(); ++i)
    if (ir::isFloat(f.param(i)->type().dtype()))
      trained.push_back(i);
  for (const std::string &p : o->params) {
    size_t i = 0;
    while (i < f.numParams() && f.param(i)->name() != p)
      ++i;
    if (i == f.numParams())
      return err(fmt::format("optimize-step: @{} has no parameter %{} to train", f.name(), p));
    if (std::find(trained.begin(), trained.end(), i) != trained.end())
      return err(fmt::format("optimize-step: parameter %{} is listed twice in params", p));
    trained.push_back(i);
  }

  if (trained.empty())
    return err(fmt::format("optimize-step: @{} has no float parameter to train", f.name()));

  autodiff::GradOptions go;
  for (size_t i : trained)
    go.wrt.push_back(f.param(i)->name());
  go.name = name + ".grad";
  auto grad = autodiff::buildGradient(m, f, go);
  WEFT_TRY(grad.status());
  const ir::Function &gf = **grad;

  // Parameters: trained, state (parameter by parameter), batch, step.
  ir::Function &step = m.addFunction(name);
  ir::ValueMap map;
  std::vector<ir::Value *> params, state;
  for (size_t i : trained)
    params.push_back(step.addParam(f.param(i)->type(), f.param(i)->name()));
  std::vector<std::string> slots = stateSlots(*o);
  for (size_t k = 0; k < trained.size(); ++k)
    for (const std::string &slot : slots)
      state.push_back(step.addParam(params[k]->type(), params[k]->name() + "." + slot));
  for (size_t i = 0; i < f.numParams(); ++i) {
    auto it = std::find(trained.begin(), trained.end(), i);
    map.map(gf.param(i), it == trained.end() ? step.addParam(f.param(i)->type(), f.param(i)->name())
                                             : params[it - trained.begin()]);
  }
  ir::Value *stepNo = step.addParam(ir::Type({}, ir::DType::I64), "step");

  ir::OpBuilder b(step.body());
  ir::Op *gret = gf.returnOp();
  for (const auto &op : gf.body().ops())
    if (op.get() != gret)
      ir::cloneOp(b, *op, map);
  ir::Value *loss = map.lookup(gret->operand(0));
  std::vector<ir::Value *> grads;
  for (size_t k = 0; k < trained.size(); ++k)
    grads.push_back(map.lookup(gret->operand(1 + k)));
  Loc loc = gret->loc();
  auto &fs = m.functions();
  fs.erase(std::find_if(fs.begin(), fs.end(), [&](const auto &p) { return p.get() == &gf; }));

  if (o->dataParallel) {
    for (size_t k = 0; k < trained.size(); ++k) // the dump says whose gradient crosses
      named(grads[k], params[k]->name() + ".grad");
    std::vector<ir::Value *> local{loss};
    local.insert(local.end(), grads.begin(), grads.end());
    auto mean = passes::allReduceMeanInBuckets(b, local, o->buckets, loc);
    WEFT_TRY(mean.status());
    loss = (*mean)[0];
    std::copy(mean->begin() + 1, mean->end(), grads.begin());
  }

  Scalars s(b, loc);
  if (o->clipNorm > 0)
    clipByGlobalNorm(s, grads, o->clipNorm);
  ir::Value *e = s.cast(stepNo, ir::DType::F64);
  StepScalars k{named(learningRate(s, e, *o), "lr"), s.add(e, s.real(1.0)),
                s.op(ir::OpKind::Eq, {stepNo, s.splatLike(stepNo, 0.0)})};
  std::vector<ir::Value *> results{loss}, newState;
  for (size_t p = 0; p < trained.size(); ++p) {
    ParamUpdate u{params[p], grads[p], {}};
    for (size_t j = 0; j < slots.size(); ++j)
      u.state.push_back(state[p * slots.size() + j]);
    std::vector<ir::Value *> updated = applyRule(s, u, k, *o);
    named(updated[0], params[p]->name() + ".new");
    for (size_t j = 0; j < slots.size(); ++j)
      named(updated[1 + j], params[p]->name() + "." + slots[j] + ".new");
    results.push_back(updated[0]);
    newState.insert(newState.end(), updated.begin() + 1, updated.end());
  }
  results.insert(results.end(), newState.begin(), newState.end());
  WEFT_TRY(b.create(ir::OpKind::Return, results, {}, {}, loc).status());
  return &step;
}

} // namespace weft::optim
