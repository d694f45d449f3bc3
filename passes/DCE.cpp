//===- passes/DCE.cpp - dead code elimination -----------------------------===//
//
// Removes pure ops none of whose results is used, regions included (a scan or
// while goes only when all its results are unused). The sweep itself is
// transforms/DeadCode.h, which autodiff shares.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "transforms/DeadCode.h"

namespace weft::passes {
namespace {

class DCEPass final : public Pass {
public:
  std::string_view name() const override { return "dce"; }
  Expected<bool> run(ir::Module &m) override {
    bool changed = false;
    for (auto &f : m.functions())
      changed |= transforms::eraseDeadOps(f->body());
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createDCEPass() { return std::make_unique<DCEPass>(); }

} // namespace weft::passes
