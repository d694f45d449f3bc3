//===- passes/Pass.h - the interface every IR pass implements -------------===//
//
// A pass transforms a whole module in place and says whether it changed
// anything. Passes are created by name through passes/Passes.def and run in
// order by the PassManager (passes/PassManager.h), which verifies, prints and
// times them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

#include <fmt/format.h>

#include <string_view>

namespace weft::passes {

class Pass {
public:
  virtual ~Pass() = default;
  /// The registry name, as written in pipelines ("cse").
  virtual std::string_view name() const = 0;
  /// Transforms `m` in place. Returns whether the IR changed, or an error naming the problem.
  virtual Expected<bool> run(ir::Module &m) = 0;
  /// Sets an option written in a pipeline as `name{key=value ...}`. Passes without options
  /// refuse every key.
  virtual Status setOption(std::string_view key, std::string_view value) {
    return err(fmt::format("pass '{}' has no option '{}'", name(), key));
  }
};

/// A pass that transforms each function on its own, in module order; the module changed when
/// any function did. The first error stops the run.
class FunctionPass : public Pass {
public:
  /// Transforms `f` in place. Returns whether it changed, or an error naming the problem.
  virtual Expected<bool> runOnFunction(ir::Function &f) = 0;

  Expected<bool> run(ir::Module &m) final {
    bool changed = false;
    for (auto &f : m.functions()) {
      auto c = runOnFunction(*f);
      WEFT_TRY(c.status());
      changed |= *c;
    }
    return changed;
  }
};

} // namespace weft::passes
