//===- tests/diff/Minimizer.h - delta-reducing a failing program ----------===//
//
// Greedy delta reduction: try one small change at a time and keep it when the
// program still fails (as the caller's predicate decides): replace an op's
// results by one of its operands of the same type, by new parameters or by
// zero splats, drop returned values, a scan's lengths or reverse, and shrink
// the bound dims. After each change dead ops and unused parameters go.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

#include <functional>
#include <memory>

namespace weft::difftest {

/// Whether a candidate (a module with @f, under dims) still fails as the original did.
using StillFails = std::function<bool(const ir::Module &, const ir::DimBindings &)>;

struct MinimizeOptions {
  /// At most this many candidates are tried.
  size_t maxTries = 1500;
};

struct Reduced {
  std::unique_ptr<ir::Module> module;
  ir::DimBindings dims;
  size_t tries = 0;
};

/// The smallest variant of `m` that `fails` the greedy search finds; `m` itself must fail.
Reduced minimize(const ir::Module &m, const ir::DimBindings &dims, const StillFails &fails,
                 const MinimizeOptions &options = {});

} // namespace weft::difftest
