//===- tools/weft-run/Format.cpp ------------------------------------------===//
#include "Format.h"

#include <fmt/format.h>

namespace weft::tool {
namespace {

constexpr int64_t kThreshold = 1000, kEdge = 3;

std::string element(const Array &a, int64_t i) {
  switch (a.dtype()) {
  case DType::F32: {
    std::string s = fmt::format("{}", a.data<float>()[i]);
    return s.find_first_of(".einf") == std::string::npos ? s + "." : s;
  }
  case DType::F64: {
    std::string s = fmt::format("{}", a.data<double>()[i]);
    return s.find_first_of(".einf") == std::string::npos ? s + "." : s;
  }
  case DType::I1:
    return a.data<bool>()[i] ? "True" : "False";
  default:
    return std::to_string(a.getInt(i));
  }
}

/// Formats the sub-array at flat `offset` spanning axes [axis, rank).
std::string block(const Array &a, int64_t axis, int64_t offset, int64_t stride, bool summarize) {
  int64_t n = a.shape()[axis];
  int64_t inner = stride / std::max<int64_t>(n, 1);
  bool last = axis + 1 == a.rank();
  std::string sep = last ? ", " : ",\n" + std::string(axis + 1, ' ');
  std::string s = "[";
  for (int64_t k = 0; k < n; ++k) {
    if (summarize && n > 2 * kEdge && k == kEdge) {
      s += "..." + sep;
      k = n - kEdge;
    }
    s += last ? element(a, offset + k) : block(a, axis + 1, offset + k * inner, inner, summarize);
    if (k + 1 < n)
      s += sep;
  }
  return s + "]";
}

} // namespace

std::string formatArray(const Array &a) {
  if (a.rank() == 0)
    return element(a, 0);
  return block(a, 0, 0, a.numel(), a.numel() > kThreshold);
}

} // namespace weft::tool
