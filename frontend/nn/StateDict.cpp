//===- frontend/nn/StateDict.cpp ------------------------------------------===//
#include "frontend/nn/StateDict.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

namespace weft::nn {
namespace {

/// `a` in `dt`, element by element through double (exact from f32 to f64).
Array converted(const Array &a, DType dt) {
  if (a.dtype() == dt)
    return a;
  Array out(dt, a.shape());
  for (int64_t i = 0; i < a.numel(); ++i)
    out.setDouble(i, a.getDouble(i));
  return out;
}

std::string shapeStr(const std::vector<int64_t> &shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

} // namespace

Expected<std::vector<Array>> paramsFromStateDict(const Graph &g, const StateDict &sd) {
  std::vector<std::string> problems;
  std::vector<Array> values;
  std::set<std::string> used;
  for (const ParamInfo &p : g.params()) {
    auto it = sd.find(p.name);
    if (it == sd.end()) {
      problems.push_back(fmt::format("missing '{}' ({})", p.name, p.type.str()));
      continue;
    }
    used.insert(p.name);
    const Array &a = it->second;
    auto shape = p.type.evaluateShape({});
    if (!shape) {
      problems.push_back(
          fmt::format("'{}': the parameter's shape {} is symbolic", p.name, p.type.shapeStr()));
      continue;
    }
    if (a.shape() != *shape) {
      problems.push_back(fmt::format("'{}': the state dict has shape {}, the parameter {}", p.name,
                                     shapeStr(a.shape()), shapeStr(*shape)));
      continue;
    }
    if (!isFloat(a.dtype()) || !isFloat(p.type.dtype())) {
      if (a.dtype() != p.type.dtype()) {
        problems.push_back(fmt::format("'{}': the state dict has dtype {}, the parameter {}",
                                       p.name, dtypeName(a.dtype()), dtypeName(p.type.dtype())));
        continue;
      }
    }
    values.push_back(converted(a, p.type.dtype()));
  }
  for (const auto &[name, a] : sd)
    if (!used.count(name))
      problems.push_back(
          fmt::format("unexpected '{}' ({}): graph '{}' has no parameter of that name", name,
                      a.typeStr(), g.name()));
  if (!problems.empty())
    return Diag{fmt::format("state dict does not match graph '{}':\n  {}", g.name(),
                            fmt::join(problems, "\n  ")),
                {}};
  return values;
}

} // namespace weft::nn
