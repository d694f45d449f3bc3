//===- passes/DataParallel.cpp - the "data-parallel" pass ------------------===//
//
// For every gradient function (@<f>_grad beside @f, as the autodiff pass makes
// it: the loss, then the gradients), returns the mean over the processes of
// the replica group of the loss and of every gradient instead of this
// process's own, bucketed by passes/GradientBuckets.h:
//   autodiff,data-parallel{bucket_bytes=1048576 group=0}
// A training step takes the same option in optimize-step (data_parallel=1
// bucket_bytes=N), which reduces between the gradient and the update. A
// function that already has an all_reduce is left alone, so the pass can run
// twice.
//
//===----------------------------------------------------------------------===//
#include "ir/Walk.h"
#include "passes/GradientBuckets.h"
#include "passes/Passes.h"

namespace weft::passes {
namespace {

bool isGradientFunction(const ir::Module &m, const ir::Function &f) {
  std::string_view n = f.name(), suffix = "_grad";
  return n.size() > suffix.size() && n.ends_with(suffix) &&
         m.function(std::string(n.substr(0, n.size() - suffix.size())));
}

bool hasAllReduce(ir::Function &f) {
  bool found = false;
  ir::walk(f.body(), [&](ir::Op &op) { found |= op.kind() == ir::OpKind::AllReduce; });
  return found;
}

class DataParallelPass final : public Pass {
public:
  std::string_view name() const override { return "data-parallel"; }

  /// bucket_bytes=N (default 25 MiB), group=G (default 0, every process).
  Status setOption(std::string_view key, std::string_view value) override {
    return setBucketOption(options_, name(), key, value);
  }

  Expected<bool> run(ir::Module &m) override {
    bool changed = false;
    for (const auto &f : m.functions()) {
      if (!isGradientFunction(m, *f) || hasAllReduce(*f))
        continue;
      ir::Op *ret = f->returnOp();
      if (!ret || ret->numOperands() == 0)
        continue;
      ir::OpBuilder b(f->body());
      b.setInsertionPointBefore(ret);
      auto mean = allReduceMeanInBuckets(b, ret->operands(), options_, ret->loc());
      WEFT_TRY(mean.status());
      ret->setOperands(std::move(*mean));
      changed = true;
    }
    return changed;
  }

private:
  BucketOptions options_;
};

} // namespace

std::unique_ptr<Pass> createDataParallelPass() { return std::make_unique<DataParallelPass>(); }

} // namespace weft::passes
