//===- passes/ExpandGru.cpp - the "expand-gru" pass ---------------------===//
//
// Replaces every gru_sequence by the scan of primitive ops it stands for
// (transforms/ExpandGruRnn.h): fuse-gru undone, for comparing the two, for reading what the
// fused op computes, and for the cpu backend, which has no kernel of its own for it yet.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"
#include "transforms/ExpandGruRnn.h"

namespace weft::passes {
namespace {

class ExpandGruPass : public FunctionPass {
public:
  std::string_view name() const override { return "expand-gru"; }
  Expected<bool> runOnFunction(ir::Function &f) override {
    return transforms::expandGruRnnSequences(f.body(), ir::OpKind::GruSequence);
  }
};

} // namespace

std::unique_ptr<Pass> createExpandGruPass() { return std::make_unique<ExpandGruPass>(); }

} // namespace weft::passes
