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

class DCEPass final : public FunctionPass {
public:
  std::string_view name() const override { return "dce"; }
  Expected<bool> runOnFunction(ir::Function &f) override {
    return transforms::eraseDeadOps(f.body());
  }
};

} // namespace

std::unique_ptr<Pass> createDCEPass() { return std::make_unique<DCEPass>(); }

} // namespace weft::passes
