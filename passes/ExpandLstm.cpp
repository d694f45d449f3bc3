//===- passes/ExpandLstm.cpp - the "expand-lstm" pass ---------------------===//
//
// Replaces every lstm_sequence by the scan of primitive ops it stands for
// (transforms/ExpandLstm.h): fuse-lstm undone, for comparing the two and for
// reading what the fused op computes.
//
//===----------------------------------------------------------------------===//
#include "transforms/ExpandLstm.h"

#include "passes/Passes.h"

namespace weft::passes {
namespace {

class ExpandLstmPass : public FunctionPass {
public:
  std::string_view name() const override { return "expand-lstm"; }
  Expected<bool> runOnFunction(ir::Function &f) override {
    return transforms::expandLstmSequences(f.body());
  }
};

} // namespace

std::unique_ptr<Pass> createExpandLstmPass() { return std::make_unique<ExpandLstmPass>(); }

} // namespace weft::passes
