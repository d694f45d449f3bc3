//===- passes/optim/OptimizeStep.cpp - the "optimize-step" pass -----------===//
//
// For every function whose first result is a float scalar (a loss), adds
// @<name>_step: forward, gradient and optimizer update in one function
// (passes/optim/Optimizer.h). Gradient functions (@f_grad beside @f) and
// functions that already have a step are left alone. Options, e.g.
//   optimize-step{kind=adam lr=1e-3 schedule=cosine t_max=100 warmup=10 clip_norm=1
//                 params=W,U,bias}
// are listed in docs/Optimizers.md.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "passes/optim/Optimizer.h"

namespace weft::passes {
namespace {

bool hasScalarLoss(const ir::Function &f) {
  std::vector<ir::Type> rs = f.resultTypes();
  return !rs.empty() && rs[0].rank() == 0 && ir::isFloat(rs[0].dtype());
}

/// Whether `f` is what autodiff or this pass made of another function of `m`.
bool isDerived(const ir::Module &m, const ir::Function &f) {
  for (std::string_view suffix : {"_grad", "_step"}) {
    const std::string &n = f.name();
    if (n.size() > suffix.size() && n.ends_with(suffix) &&
        m.function(n.substr(0, n.size() - suffix.size())))
      return true;
  }
  return false;
}

class OptimizeStepPass : public Pass {
public:
  std::string_view name() const override { return "optimize-step"; }

  Status setOption(std::string_view key, std::string_view value) override {
    return optim::setOption(options_, key, value);
  }

  Expected<bool> run(ir::Module &m) override {
    std::vector<ir::Function *> todo;
    for (const auto &f : m.functions())
      if (hasScalarLoss(*f) && !isDerived(m, *f) && !m.function(f->name() + "_step"))
        todo.push_back(f.get());
    for (ir::Function *f : todo)
      WEFT_TRY(optim::buildTrainStep(m, *f, options_).status());
    return !todo.empty();
  }

private:
  optim::OptimOptions options_;
};

} // namespace

std::unique_ptr<Pass> createOptimizeStepPass() { return std::make_unique<OptimizeStepPass>(); }

} // namespace weft::passes
