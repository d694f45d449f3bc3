//===- runtime/SymbolBinder.cpp -------------------------------------------===//
#include "runtime/SymbolBinder.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft {

std::string inputLabel(size_t i, std::string_view paramName) {
  return paramName.empty() ? fmt::format("input {}", i)
                           : fmt::format("input {} (%{})", i, paramName);
}

SymbolBinder::SymbolBinder(std::vector<std::string> names)
    : names_(std::move(names)), values_(names_.size(), kUnbound), boundBy_(names_.size()) {}

size_t SymbolBinder::find(std::string_view name) const {
  return static_cast<size_t>(std::find(names_.begin(), names_.end(), name) - names_.begin());
}

Status SymbolBinder::bindGiven(size_t s, int64_t n) {
  if (n < 0)
    return err(fmt::format("symbol {} is {}, a size must be non-negative", names_[s], n));
  values_[s] = n;
  boundBy_[s] = "the caller's dims";
  return Status::ok();
}

Status SymbolBinder::bindFromInput(size_t s, int64_t n, const std::string &input, int64_t axis) {
  if (!isBound(s)) {
    values_[s] = n;
    boundBy_[s] = input;
    return Status::ok();
  }
  if (values_[s] != n)
    return err(fmt::format("{}: axis {} binds {} = {}, but {} bound it to {}", input, axis,
                           names_[s], n, boundBy_[s], values_[s]));
  return Status::ok();
}

Status SymbolBinder::checkAllBound() const {
  for (size_t s = 0; s < names_.size(); ++s)
    if (!isBound(s))
      return err(fmt::format("symbolic dim '{}' is not bound", names_[s]));
  return Status::ok();
}

} // namespace weft
