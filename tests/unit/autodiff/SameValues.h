//===- tests/unit/autodiff/SameValues.h - two gradient computations agree ------===//
#pragma once

#include "runtime/Array.h"

#include <doctest/doctest.h>

#include <vector>

namespace weft::autodifftest {

/// Checks that `a` and `b` hold the same arrays: same shapes, every element within a relative
/// 1e-12 (two ways of computing one gradient may sum in another order).
inline void checkSame(const std::vector<Array> &a, const std::vector<Array> &b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].shape() == b[i].shape());
    for (int64_t k = 0; k < a[i].numel(); ++k) {
      CAPTURE(i);
      CAPTURE(k);
      CHECK(a[i].getDouble(k) == doctest::Approx(b[i].getDouble(k)).epsilon(1e-12));
    }
  }
}

} // namespace weft::autodifftest
