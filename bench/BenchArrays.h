//===- bench/BenchArrays.h - comparing the results of two runs -----------===//
#pragma once

#include "runtime/Array.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace weft::bench {

/// Max |a - b| over every element of every f32 result.
inline double maxDiff(const std::vector<Array> &a, const std::vector<Array> &b) {
  double d = 0;
  for (size_t r = 0; r < a.size(); ++r)
    for (int64_t k = 0; k < a[r].numel(); ++k)
      d = std::max(d,
                   std::fabs(static_cast<double>(a[r].data<float>()[k]) - b[r].data<float>()[k]));
  return d;
}

} // namespace weft::bench
