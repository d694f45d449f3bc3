//===- passes/Autodiff.cpp - the "autodiff" pass ---------------------------===//
//
// For every function whose first result is a float scalar (a loss), adds
// @<name>_grad returning the loss and its gradients with respect to every float
// parameter (passes/autodiff/Autodiff.h). Other functions are left alone, as
// are functions that already have a gradient function, so the pass can run
// twice. The transform itself lives in passes/autodiff/.
//
//===----------------------------------------------------------------------===//
#include "passes/autodiff/Autodiff.h"

#include "passes/Passes.h"

namespace weft::passes {
namespace {

bool hasScalarLoss(const ir::Function &f) {
  std::vector<ir::Type> rs = f.resultTypes();
  return !rs.empty() && rs[0].rank() == 0 && ir::isFloat(rs[0].dtype());
}

class AutodiffPass : public Pass {
public:
  std::string_view name() const override { return "autodiff"; }

  Expected<bool> run(ir::Module &m) override {
    std::vector<ir::Function *> todo;
    for (const auto &f : m.functions())
      if (hasScalarLoss(*f) && !m.function(f->name() + "_grad"))
        todo.push_back(f.get());
    for (ir::Function *f : todo) {
      auto g = autodiff::buildGradient(m, *f);
      if (!g)
        return g.diag();
    }
    return !todo.empty();
  }
};

} // namespace

std::unique_ptr<Pass> createAutodiffPass() { return std::make_unique<AutodiffPass>(); }

} // namespace weft::passes
