//===- frontend/Init.cpp --------------------------------------------------===//
#include "frontend/Init.h"

#include "ir/Printer.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <cmath>

namespace weft {
namespace {

struct Fans {
  double in = 1, out = 1;
};

Fans fans(const std::vector<int64_t> &shape) {
  size_t r = shape.size();
  if (r == 0)
    return {};
  if (r == 1)
    return {double(shape[0]), double(shape[0])};
  return {double(shape[r - 2]), double(shape[r - 1])};
}

} // namespace

std::string Init::str() const {
  switch (kind) {
  case Kind::Constant:
    return fmt::format("constant({})", ir::formatFloat(a));
  case Kind::Uniform:
    return fmt::format("uniform({}, {})", ir::formatFloat(a), ir::formatFloat(b));
  case Kind::Normal:
    return fmt::format("normal({})", ir::formatFloat(a));
  case Kind::Xavier:
    return "xavier";
  case Kind::He:
    return "he";
  case Kind::Lecun:
    return "lecun";
  }
  WEFT_UNREACHABLE("unhandled Init::Kind");
}

Expected<Array> drawInit(const Init &init, DType dtype, const std::vector<int64_t> &shape,
                         int64_t seed) {
  Array out(dtype, shape);
  if (init.kind == Init::Kind::Constant) {
    for (int64_t i = 0; i < out.numel(); ++i)
      out.setDouble(i, init.a);
    return out;
  }
  if (!isFloat(dtype))
    return err(
        fmt::format("initializer {} needs a float dtype, got {}", init.str(), dtypeName(dtype)));
  Fans f = fans(shape);
  bool uniform = init.kind == Init::Kind::Uniform || init.kind == Init::Kind::Xavier;
  double lo = init.a, hi = init.b, stddev = init.a;
  if (init.kind == Init::Kind::Xavier) {
    hi = std::sqrt(6.0 / (f.in + f.out));
    lo = -hi;
  } else if (init.kind == Init::Kind::He) {
    stddev = std::sqrt(2.0 / f.in);
  } else if (init.kind == Init::Kind::Lecun) {
    stddev = std::sqrt(1.0 / f.in);
  }
  for (int64_t i = 0; i < out.numel(); ++i) {
    auto u = static_cast<uint64_t>(i);
    out.setDouble(i, uniform ? lo + (hi - lo) * random::uniformF64(seed, u)
                             : stddev * random::normalF64(seed, u));
  }
  return out;
}

} // namespace weft
