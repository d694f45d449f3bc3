//===- runtime/SymbolBinder.h - binding symbolic dims from call arguments -===//
//
// A call binds each symbol (B, T) either from a value the caller gives or from
// an input whose parameter type has the symbol alone on an axis. Every caller
// (ir/Signature.cpp for the interpreter and the JIT, runtime/Aot.cpp for AOT
// objects, which link only the runtime) binds through this class, so they
// accept the same calls and word their refusals the same way.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

/// How messages name input `i`: "input 1 (%W)", or "input 1" when the parameter has no name.
std::string inputLabel(size_t i, std::string_view paramName);

class SymbolBinder {
public:
  /// The value of a symbol nothing has bound yet.
  static constexpr int64_t kUnbound = -1;

  /// Symbols by index; all start unbound.
  explicit SymbolBinder(std::vector<std::string> names);

  size_t size() const { return names_.size(); }
  const std::string &name(size_t s) const { return names_[s]; }
  /// The index of the symbol called `name`, or size() when there is none.
  size_t find(std::string_view name) const;
  bool isBound(size_t s) const { return values_[s] != kUnbound; }
  /// The value of each symbol by index (kUnbound where unbound).
  const std::vector<int64_t> &values() const { return values_; }

  /// Binds symbol `s` to `n`, a value the caller gave; refuses a negative size.
  Status bindGiven(size_t s, int64_t n);
  /// Binds symbol `s` to `n`, the size of axis `axis` of `input` (as inputLabel names it);
  /// refuses a size that disagrees with an earlier binding, naming who made it.
  Status bindFromInput(size_t s, int64_t n, const std::string &input, int64_t axis);
  /// Fails naming the first symbol that is still unbound.
  Status checkAllBound() const;

private:
  std::vector<std::string> names_;
  std::vector<int64_t> values_;
  std::vector<std::string> boundBy_;
};

} // namespace weft
