//===- passes/optim/Options.cpp - optimize-step options, parsed and checked ===//
#include "passes/optim/Optimizer.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <string>

namespace weft::optim {
namespace {

Expected<double> number(std::string_view key, std::string_view value) {
  double d = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
  if (ec != std::errc() || ptr != value.data() + value.size() || !std::isfinite(d))
    return err(fmt::format("optimize-step option '{}' needs a number, got '{}'", key, value));
  return d;
}

Expected<int64_t> count(std::string_view key, std::string_view value) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size() || n < 0)
    return err(fmt::format("optimize-step option '{}' needs a non-negative integer, got '{}'", key,
                           value));
  return n;
}

Expected<Rule> rule(std::string_view v) {
  if (v == "sgd")
    return Rule::Sgd;
  if (v == "momentum")
    return Rule::Momentum;
  if (v == "nesterov")
    return Rule::Nesterov;
  if (v == "rmsprop")
    return Rule::RmsProp;
  if (v == "adagrad")
    return Rule::Adagrad;
  if (v == "adam")
    return Rule::Adam;
  if (v == "adamw")
    return Rule::AdamW;
  return err(fmt::format("optimize-step kind is one of sgd, momentum, nesterov, rmsprop, "
                         "adagrad, adam, adamw; got '{}'",
                         v));
}

Expected<Schedule> schedule(std::string_view v) {
  if (v == "constant")
    return Schedule::Constant;
  if (v == "step")
    return Schedule::Step;
  if (v == "exponential")
    return Schedule::Exponential;
  if (v == "cosine")
    return Schedule::Cosine;
  return err(fmt::format(
      "optimize-step schedule is one of constant, step, exponential, cosine; got '{}'", v));
}

std::vector<std::string> names(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    out.emplace_back(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return out;
}

} // namespace

std::string_view optionNames() {
  return "kind, lr, momentum, dampening, weight_decay, alpha, eps, centered, lr_decay, beta1, "
         "beta2, schedule, step_size, gamma, t_max, eta_min, warmup, warmup_start, clip_norm, "
         "params, carry, data_parallel, bucket_bytes, group";
}

Status setOption(OptimOptions &o, std::string_view key, std::string_view value) {
  struct Real {
    std::string_view key;
    double OptimOptions::*field;
  };
  static const Real reals[] = {{"lr", &OptimOptions::lr},
                               {"momentum", &OptimOptions::momentum},
                               {"dampening", &OptimOptions::dampening},
                               {"weight_decay", &OptimOptions::weightDecay},
                               {"alpha", &OptimOptions::alpha},
                               {"eps", &OptimOptions::eps},
                               {"lr_decay", &OptimOptions::lrDecay},
                               {"beta1", &OptimOptions::beta1},
                               {"beta2", &OptimOptions::beta2},
                               {"gamma", &OptimOptions::gamma},
                               {"eta_min", &OptimOptions::etaMin},
                               {"warmup_start", &OptimOptions::warmupStart},
                               {"clip_norm", &OptimOptions::clipNorm}};
  for (const Real &r : reals)
    if (key == r.key) {
      auto d = number(key, value);
      WEFT_TRY(d.status());
      o.*r.field = *d;
      return {};
    }
  struct Count {
    std::string_view key;
    int64_t OptimOptions::*field;
  };
  static const Count counts[] = {{"step_size", &OptimOptions::stepSize},
                                 {"t_max", &OptimOptions::tMax},
                                 {"warmup", &OptimOptions::warmup}};
  for (const Count &c : counts)
    if (key == c.key) {
      auto n = count(key, value);
      WEFT_TRY(n.status());
      o.*c.field = *n;
      return {};
    }
  if (key == "kind") {
    auto r = rule(value);
    WEFT_TRY(r.status());
    o.rule = *r;
    return {};
  }
  if (key == "schedule") {
    auto s = schedule(value);
    WEFT_TRY(s.status());
    o.schedule = *s;
    return {};
  }
  if (key == "centered") {
    if (value != "true" && value != "false")
      return err(fmt::format("optimize-step option centered is true or false, got '{}'", value));
    o.centered = value == "true";
    return {};
  }
  if (key == "data_parallel") {
    if (value != "0" && value != "1")
      return err(fmt::format("optimize-step option data_parallel is 0 or 1, got '{}'", value));
    o.dataParallel = value == "1";
    return {};
  }
  if (key == "bucket_bytes" || key == "group")
    return passes::setBucketOption(o.buckets, "optimize-step", key, value);
  if (key == "params" || key == "carry") {
    std::vector<std::string> &list = key == "params" ? o.params : o.carry;
    list = names(value);
    for (const std::string &p : list)
      if (p.empty())
        return err(fmt::format("optimize-step option {} has an empty name in '{}'", key, value));
    return {};
  }
  return err(
      fmt::format("pass 'optimize-step' has no option '{}' (options: {})", key, optionNames()));
}

Expected<OptimOptions> resolved(const OptimOptions &in) {
  OptimOptions o = in;
  bool sgdFamily = o.rule == Rule::Sgd || o.rule == Rule::Momentum || o.rule == Rule::Nesterov;
  bool adamFamily = o.rule == Rule::Adam || o.rule == Rule::AdamW;
  if (o.lr < 0)
    o.lr = sgdFamily || adamFamily ? 1e-3 : 1e-2;
  if (o.momentum < 0)
    o.momentum = o.rule == Rule::Momentum || o.rule == Rule::Nesterov ? 0.9 : 0.0;
  if (o.weightDecay < 0)
    o.weightDecay = o.rule == Rule::AdamW ? 1e-2 : 0.0;
  if (o.eps < 0)
    o.eps = o.rule == Rule::Adagrad ? 1e-10 : 1e-8;
  if (o.rule == Rule::Momentum && o.momentum == 0)
    return err("optimize-step kind=momentum needs momentum > 0 (or use kind=sgd)");
  if (o.rule == Rule::Nesterov && (o.momentum == 0 || o.dampening != 0))
    return err("optimize-step kind=nesterov needs momentum > 0 and dampening = 0 (as torch's SGD)");
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1))
    return err(fmt::format("optimize-step beta1 and beta2 must lie in [0, 1), got {} and {}",
                           o.beta1, o.beta2));
  if (o.schedule == Schedule::Step && o.stepSize == 0)
    return err("optimize-step schedule=step needs step_size > 0");
  if (o.schedule == Schedule::Cosine && o.tMax == 0)
    return err("optimize-step schedule=cosine needs t_max > 0");
  if (o.clipNorm < 0)
    return err(fmt::format("optimize-step clip_norm must not be negative, got {}", o.clipNorm));
  return o;
}

std::vector<std::string> stateSlots(const OptimOptions &o) {
  switch (o.rule) {
  case Rule::Sgd:
    if (o.momentum == 0)
      return {};
    [[fallthrough]];
  case Rule::Momentum:
  case Rule::Nesterov:
    return {"momentum_buffer"};
  case Rule::RmsProp: {
    std::vector<std::string> s{"square_avg"};
    if (o.momentum > 0)
      s.push_back("momentum_buffer");
    if (o.centered)
      s.push_back("grad_avg");
    return s;
  }
  case Rule::Adagrad:
    return {"sum"};
  case Rule::Adam:
  case Rule::AdamW:
    return {"exp_avg", "exp_avg_sq"};
  }
  WEFT_UNREACHABLE("unhandled optimizer rule");
}

} // namespace weft::optim
