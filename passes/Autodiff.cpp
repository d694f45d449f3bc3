//===- passes/Autodiff.cpp - the "autodiff" pass ---------------------------===//
//
// For every function whose first result is a float scalar (a loss), adds
// @<name>_grad returning the loss and its gradients with respect to every float
// parameter (passes/autodiff/Autodiff.h). Other functions are left alone, as
// are functions that already have a gradient function, so the pass can run
// twice. Options: autodiff{residuals=recompute checkpoint=10 truncate=20 wrt=W,U}
// (wrt: only those parameters' gradients, in that order). The
// transform itself lives in passes/autodiff/.
//
//===----------------------------------------------------------------------===//
#include "passes/autodiff/Autodiff.h"

#include "passes/Passes.h"

#include <fmt/format.h>

#include <charconv>

namespace weft::passes {
namespace {

bool hasScalarLoss(const ir::Function &f) {
  std::vector<ir::Type> rs = f.resultTypes();
  return !rs.empty() && rs[0].rank() == 0 && ir::isFloat(rs[0].dtype());
}

/// A non-negative integer option value.
Expected<int64_t> count(std::string_view key, std::string_view value) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size() || n < 0)
    return err(
        fmt::format("autodiff option '{}' needs a non-negative integer, got '{}'", key, value));
  return n;
}

class AutodiffPass : public Pass {
public:
  std::string_view name() const override { return "autodiff"; }

  /// residuals=stash|recompute, checkpoint=K, truncate=K, wrt=W,U (see autodiff::GradOptions).
  Status setOption(std::string_view key, std::string_view value) override {
    if (key == "residuals") {
      if (value != "stash" && value != "recompute")
        return err(fmt::format("autodiff option residuals is stash or recompute, got '{}'", value));
      options_.residuals =
          value == "stash" ? autodiff::Residuals::Stash : autodiff::Residuals::Recompute;
      return {};
    }
    if (key == "checkpoint" || key == "truncate") {
      auto n = count(key, value);
      WEFT_TRY(n.status());
      (key == "checkpoint" ? options_.checkpointEvery : options_.truncate) = *n;
      return {};
    }
    if (key == "wrt") {
      options_.wrt.clear();
      for (std::string_view rest = value; !rest.empty();) {
        std::string_view name = rest.substr(0, rest.find(','));
        if (name.empty())
          return err(fmt::format("autodiff option wrt has an empty name in '{}'", value));
        options_.wrt.emplace_back(name);
        rest.remove_prefix(std::min(rest.size(), name.size() + 1));
      }
      return {};
    }
    return err(fmt::format("pass 'autodiff' has no option '{}' (options: residuals, checkpoint, "
                           "truncate, wrt)",
                           key));
  }

  Expected<bool> run(ir::Module &m) override {
    std::vector<ir::Function *> todo;
    for (const auto &f : m.functions())
      if (hasScalarLoss(*f) && !m.function(f->name() + "_grad"))
        todo.push_back(f.get());
    for (ir::Function *f : todo) {
      auto g = autodiff::buildGradient(m, *f, options_);
      if (!g)
        return g.diag();
    }
    return !todo.empty();
  }

private:
  autodiff::GradOptions options_;
};

} // namespace

std::unique_ptr<Pass> createAutodiffPass() { return std::make_unique<AutodiffPass>(); }

} // namespace weft::passes
