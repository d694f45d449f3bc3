//===- passes/CSE.cpp - common subexpression elimination ------------------===//
//
// One program-order sweep per function with a stack of scopes: the function
// body is the outer scope and each scan/while body opens an inner one. An op
// equal to one already in scope (same kind, operands, attributes and result
// types) is replaced by it. Inner scopes are popped when their region ends,
// so an op after a region never reuses an op from inside it.
//
//===----------------------------------------------------------------------===//
#include "ir/Printer.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include <fmt/format.h>

#include <string>
#include <unordered_map>
#include <utility>

namespace weft::passes {
namespace {

using ir::Block;
using ir::Op;

/// The identity of a pure op as text: kind, operand addresses, attributes (floats in
/// round-trip form, so 0.0 and -0.0 differ) and result types.
std::string opKey(const Op &op) {
  std::string key(op.name());
  for (const ir::Value *v : op.operands())
    key += fmt::format(" {}", static_cast<const void *>(v));
  for (const auto &[name, value] : op.attrs())
    key += fmt::format(" {}={}", name, ir::formatAttr(value));
  for (const ir::Value *r : op.results())
    key += " : " + r->type().str();
  return key;
}

class CSE {
public:
  bool run(ir::Function &f) {
    block(f.body());
    bool changed = remap_.changed();
    remap_.eraseReplaced();
    return changed;
  }

private:
  void block(Block &b) {
    scopes_.emplace_back();
    for (auto &opPtr : b.ops()) {
      Op &op = *opPtr;
      remap_.remapOperands(op);
      if (ir::hasRegion(op.kind())) {
        // A fusion body is isolated: it may not reuse an op from outside.
        auto outer = op.kind() == ir::OpKind::Fusion ? std::exchange(scopes_, {}) : Scopes{};
        for (size_t r = 0; r < op.numRegions(); ++r)
          block(op.region(r));
        if (op.kind() == ir::OpKind::Fusion)
          scopes_ = std::move(outer);
        continue;
      }
      if (!ir::isPure(op.kind()) || op.numResults() == 0)
        continue;
      std::string key = opKey(op);
      if (Op *prev = lookup(key)) {
        remap_.replaceOp(&op, prev->results());
        continue;
      }
      scopes_.back().emplace(std::move(key), &op);
    }
    scopes_.pop_back();
  }

  Op *lookup(const std::string &key) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
      if (auto found = it->find(key); found != it->end())
        return found->second;
    return nullptr;
  }

  using Scopes = std::vector<std::unordered_map<std::string, Op *>>;
  Scopes scopes_;
  ValueRemap remap_;
};

class CSEPass final : public FunctionPass {
public:
  std::string_view name() const override { return "cse"; }
  Expected<bool> runOnFunction(ir::Function &f) override { return CSE().run(f); }
};

} // namespace

std::unique_ptr<Pass> createCSEPass() { return std::make_unique<CSEPass>(); }

} // namespace weft::passes
