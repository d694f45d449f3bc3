//===- passes/ExpandRnn.cpp - the "expand-rnn" pass ---------------------===//
//
// Replaces every rnn_sequence by the scan of primitive ops it stands for
// (transforms/ExpandGruRnn.h): fuse-rnn undone, for comparing the two, for reading what the
// fused op computes, and for the cpu backend, which has no kernel of its own for it yet.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "transforms/ExpandGruRnn.h"

namespace weft::passes {
namespace {

class ExpandRnnPass : public FunctionPass {
public:
  std::string_view name() const override { return "expand-rnn"; }
  Expected<bool> runOnFunction(ir::Function &f) override {
    return transforms::expandGruRnnSequences(f.body(), ir::OpKind::RnnSequence);
  }
};

} // namespace

std::unique_ptr<Pass> createExpandRnnPass() { return std::make_unique<ExpandRnnPass>(); }

} // namespace weft::passes
