//===- passes/optim/TrainStep.cpp - one function: forward, gradient, update ===//
//
// The gradient function of the loss (passes/autodiff, wrt the trained
// parameters only, keeping every result of the forward function) is built as a
// scratch function, inlined into the step function, and removed; the update
// follows it. A parameter %step of the forward function (a per-step dropout seed reads it) is the
// step function's own %step:
//
//   %loss, %carried..., %dW, ... = <forward and backward>   (autodiff)
//   %loss, %dW ...  = their means over the processes         (data_parallel, in buckets)
//   %W.grad_absmax  = reduce_max(abs(%dW))                   (names a non-finite gradient)
//   %dW' ...        = clipped gradients                      (clip_norm)
//   %lr             = schedule(%step)                        (f64 scalar)
//   %W.new, %W.exp_avg.new, ... = rule(%W, %dW', state)      (one per parameter)
//   %ok             = |%loss| <= max finite                  (false for NaN and inf)
//   every new value = select(%ok, new, old)                  (a bad step changes nothing)
//   return %loss, <new params>, <new state>, <new carried>, <gradient maxima>
//     aliases(<each new value> = <its argument>)
//
//===----------------------------------------------------------------------===//
#include "ir/Clone.h"
#include "ir/Verifier.h"
#include "passes/autodiff/Autodiff.h"
#include "passes/optim/StepParts.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace weft::optim {

namespace {

/// Gives `v` a name for the IR dump (the printer makes it unique), unless it is a parameter.
ir::Value *named(ir::Value *v, std::string name) {
  if (v->definingOp())
    v->setName(std::move(name));
  return v;
}

/// The index of f's parameter named `name`, or f.numParams().
size_t paramIndex(const ir::Function &f, std::string_view name) {
  size_t i = 0;
  while (i < f.numParams() && f.param(i)->name() != name)
    ++i;
  return i;
}

/// An i1 scalar: whether the float scalar `x` is finite (NaN and inf fail the ordered <=).
ir::Value *isFinite(Scalars &s, ir::Value *x) {
  double max = x->type().dtype() == ir::DType::F64 ? std::numeric_limits<double>::max()
                                                   : std::numeric_limits<float>::max();
  return s.op(ir::OpKind::Le, {s.op(ir::OpKind::Abs, {x}), s.splatLike(x, max)});
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
  // A parameter %step of f is the step counter itself (a per-step dropout seed reads it,
  // nn::stepSeed): the step function passes its own %step there.
  size_t fStep = paramIndex(f, "step");
  if (fStep < f.numParams() && f.param(fStep)->type() != ir::Type({}, ir::DType::I64))
    return err(fmt::format("optimize-step: @{} has a parameter %step of type {}; %step is the "
                           "step counter, a tensor<i64> scalar (rename it, or make it one)",
                           f.name(), f.param(fStep)->type().str()));

  // The carried parameters: f's results 1, 2, ... are their new values.
  std::vector<size_t> carried;
  std::vector<ir::Type> fResults = f.resultTypes();
  if (o->carry.size() + 1 > fResults.size())
    return err(fmt::format("optimize-step: carry names {} parameters, but @{} returns only {} "
                           "results besides the loss",
                           o->carry.size(), f.name(), fResults.size() - 1));
  for (size_t c = 0; c < o->carry.size(); ++c) {
    size_t i = paramIndex(f, o->carry[c]);
    if (i == f.numParams())
      return err(
          fmt::format("optimize-step: @{} has no parameter %{} to carry", f.name(), o->carry[c]));
    if (std::find(carried.begin(), carried.end(), i) != carried.end())
      return err(fmt::format("optimize-step: parameter %{} is listed twice in carry", o->carry[c]));
    if (i == fStep)
      return err("optimize-step: %step is the step counter; it cannot be carried");
    if (fResults[1 + c] != f.param(i)->type())
      return err(fmt::format("optimize-step: @{} returns a {} as result {}, the new value of "
                             "carried %{}, which is a {}",
                             f.name(), fResults[1 + c].str(), 1 + c, o->carry[c],
                             f.param(i)->type().str()));
    carried.push_back(i);
  }
  auto isCarried = [&](size_t i) {
    return std::find(carried.begin(), carried.end(), i) != carried.end();
  };

  // The trained parameters, in the step function's order.
  std::vector<size_t> trained;
  for (size_t i = 0; o->params.empty() && i < f.numParams(); ++i)
    if (ir::isFloat(f.param(i)->type().dtype()) && !isCarried(i))
      trained.push_back(i);
  for (const std::string &p : o->params) {
    size_t i = paramIndex(f, p);
    if (i == f.numParams())
      return err(fmt::format("optimize-step: @{} has no parameter %{} to train", f.name(), p));
    if (std::find(trained.begin(), trained.end(), i) != trained.end())
      return err(fmt::format("optimize-step: parameter %{} is listed twice in params", p));
    if (isCarried(i))
      return err(fmt::format("optimize-step: parameter %{} is both trained and carried", p));
    if (i == fStep)
      return err("optimize-step: %step is the step counter; it cannot be trained");
    trained.push_back(i);
  }

  if (trained.empty())
    return err(fmt::format("optimize-step: @{} has no float parameter to train", f.name()));

  autodiff::GradOptions go;
  for (size_t i : trained)
    go.wrt.push_back(f.param(i)->name());
  go.name = name + ".grad";
  go.keepResults = true;
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
    if (i == fStep)
      continue;
    auto it = std::find(trained.begin(), trained.end(), i);
    map.map(gf.param(i), it == trained.end() ? step.addParam(f.param(i)->type(), f.param(i)->name())
                                             : params[it - trained.begin()]);
  }
  ir::Value *stepNo = step.addParam(ir::Type({}, ir::DType::I64), "step");
  if (fStep < f.numParams())
    map.map(gf.param(fStep), stepNo);

  ir::OpBuilder b(step.body());
  ir::Op *gret = gf.returnOp();
  for (const auto &op : gf.body().ops())
    if (op.get() != gret)
      ir::cloneOp(b, *op, map);
  ir::Value *loss = map.lookup(gret->operand(0));
  std::vector<ir::Value *> grads;
  for (size_t k = 0; k < trained.size(); ++k)
    grads.push_back(map.lookup(gret->operand(fResults.size() + k)));
  std::vector<std::pair<ir::Value *, ir::Value *>> carriedUpdates; // (new value, argument)
  for (size_t c = 0; c < carried.size(); ++c)
    carriedUpdates.emplace_back(map.lookup(gret->operand(1 + c)), map.lookup(gf.param(carried[c])));
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
  std::vector<ir::Value *> gradMax;
  for (size_t p = 0; p < trained.size(); ++p) {
    std::vector<int64_t> axes;
    for (int64_t a = 0; a < grads[p]->type().rank(); ++a)
      axes.push_back(a);
    ir::Value *absGrad = s.op(ir::OpKind::Abs, {grads[p]});
    gradMax.push_back(
        named(axes.empty() ? absGrad : s.op(ir::OpKind::ReduceMax, {absGrad}, {{"axes", axes}}),
              params[p]->name() + ".grad_absmax"));
  }
  if (o->clipNorm > 0)
    clipByGlobalNorm(s, grads, o->clipNorm);
  ir::Value *e = s.cast(stepNo, ir::DType::F64);
  StepScalars k{named(learningRate(s, e, *o), "lr"), s.add(e, s.real(1.0)),
                s.op(ir::OpKind::Eq, {stepNo, s.splatLike(stepNo, 0.0)})};
  // (new value, the argument it replaces), in result order after the loss.
  std::vector<std::pair<ir::Value *, ir::Value *>> updates, stateUpdates;
  for (size_t p = 0; p < trained.size(); ++p) {
    ParamUpdate u{params[p], grads[p], {}};
    for (size_t j = 0; j < slots.size(); ++j)
      u.state.push_back(state[p * slots.size() + j]);
    std::vector<ir::Value *> updated = applyRule(s, u, k, *o);
    updates.emplace_back(updated[0], params[p]);
    for (size_t j = 0; j < slots.size(); ++j)
      stateUpdates.emplace_back(updated[1 + j], u.state[j]);
  }
  updates.insert(updates.end(), stateUpdates.begin(), stateUpdates.end());
  updates.insert(updates.end(), carriedUpdates.begin(), carriedUpdates.end());

  ir::Value *ok = named(isFinite(s, loss), "finite");
  std::vector<ir::Value *> results{loss};
  for (auto [value, old] : updates) {
    // A carried value the function returns unchanged is its own argument already; any other
    // value (another argument included, which may not be returned beside its own update)
    // becomes a guarded new one.
    if (value != old)
      value = named(s.select(s.condLike(ok, old), value, old), old->name() + ".new");
    results.push_back(value);
  }
  results.insert(results.end(), gradMax.begin(), gradMax.end());
  WEFT_TRY(b.create(ir::OpKind::Return, results, {}, {}, loc).status());
  for (size_t r = 0; r < updates.size(); ++r) {
    ir::Value *old = updates[r].second;
    size_t a = 0;
    while (step.param(a) != old)
      ++a;
    step.addAlias({1 + r, a});
  }
  WEFT_TRY(ir::verify(step));
  return &step;
}

} // namespace weft::optim
