//===- passes/DCE.cpp - dead code elimination -----------------------------===//
//
// Removes pure ops none of whose results is used, regions included (a scan or
// while goes only when all its results are unused). Blocks are swept last op
// first, so a chain of dead ops goes in one sweep; removing an op releases the
// uses made by its operands and by the ops of its regions. Sweeps repeat until
// nothing changes.
//
//===----------------------------------------------------------------------===//
#include "ir/Walk.h"
#include "passes/Passes.h"

#include <unordered_map>

namespace weft::passes {
namespace {

using ir::Block;
using ir::Op;

class DCE {
public:
  explicit DCE(ir::Function &f) : f_(f), uses_(ir::useCounts(f.body())) {}

  bool run() {
    bool changed = false;
    while (sweep(f_.body()))
      changed = true;
    return changed;
  }

private:
  bool isDead(const Op &op) const {
    if (!ir::isPure(op.kind()))
      return false;
    for (const ir::Value *r : op.results())
      if (auto it = uses_.find(r); it != uses_.end() && it->second > 0)
        return false;
    return true;
  }

  void release(Op &op) {
    for (ir::Value *v : op.operands())
      --uses_[v];
    for (size_t r = 0; r < op.numRegions(); ++r)
      for (auto &inner : op.region(r).ops())
        release(*inner);
  }

  bool sweep(Block &b) {
    bool changed = false;
    for (auto it = b.ops().end(); it != b.ops().begin();) {
      --it;
      Op *op = it->get();
      if (isDead(*op)) {
        release(*op);
        auto next = it;
        ++next;
        b.erase(op);
        it = next;
        changed = true;
        continue;
      }
      for (size_t r = 0; r < op->numRegions(); ++r)
        changed |= sweep(op->region(r));
    }
    return changed;
  }

  ir::Function &f_;
  std::unordered_map<const ir::Value *, size_t> uses_;
};

class DCEPass final : public Pass {
public:
  std::string_view name() const override { return "dce"; }
  Expected<bool> run(ir::Module &m) override {
    bool changed = false;
    for (auto &f : m.functions())
      changed |= DCE(*f).run();
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createDCEPass() { return std::make_unique<DCEPass>(); }

} // namespace weft::passes
