//===- frontend/nn/Scope.cpp ----------------------------------------------===//
#include "frontend/nn/Scope.h"

#include <fmt/format.h>

namespace weft::nn {
namespace {

void checkName(std::string_view name, SrcLoc loc) {
  if (name.empty())
    throwAt(loc, "an nn scope or parameter name must not be empty");
  if (name.find('.') != std::string_view::npos)
    throwAt(loc, fmt::format("nn name '{}' holds a '.'; dots separate the levels of a name, so "
                             "give each level its own child()",
                             name));
}

} // namespace

Scope::Scope(Graph &g, Mode mode, SrcLoc) : graph_(&g), mode_(mode) {}

Scope Scope::child(std::string_view name, SrcLoc loc) const {
  checkName(name, loc);
  Scope s = *this;
  s.prefix_ = qualify(name);
  return s;
}

Scope Scope::withSeed(Tensor seed, SrcLoc loc) const {
  if (!seed.valid())
    throwAt(loc, "nn scope: withSeed needs a tensor<i64> scalar, not an empty Tensor");
  if (seed.graph() != graph_)
    throwAt(loc, "nn scope: the seed belongs to another graph");
  if (seed.rank() != 0 || seed.dtype() != DType::I64)
    throwAt(loc, fmt::format("nn scope: the seed must be a tensor<i64> scalar, got {}",
                             seed.type().str()));
  Scope s = *this;
  s.seed_ = seed;
  return s;
}

std::string Scope::qualify(std::string_view name) const {
  return prefix_.empty() ? std::string(name) : fmt::format("{}.{}", prefix_, name);
}

std::string Scope::checkedName(std::string_view name, SrcLoc loc) const {
  checkName(name, loc);
  std::string full = qualify(name);
  for (const ParamInfo &p : graph_->params())
    if (p.name == full)
      throwAt(loc,
              fmt::format("parameter '{}' is declared twice in graph '{}'", full, graph_->name()));
  return full;
}

Tensor Scope::param(std::string_view name, Shape shape, Init init, DType dtype, SrcLoc loc) const {
  return graph_->param(checkedName(name, loc), std::move(shape), init, dtype, loc);
}

Tensor Scope::buffer(std::string_view name, Shape shape, Init init, DType dtype, SrcLoc loc) const {
  return graph_->buffer(checkedName(name, loc), std::move(shape), init, dtype, loc);
}

} // namespace weft::nn
