//===- tests/unit/ConvertArray.h - an Array's elements in another dtype ---===//
#pragma once

#include "runtime/Array.h"

namespace weft::testing {

/// `a` with every element converted to `dt` through double (exact for f32 values in f32 or f64).
inline Array convertedTo(DType dt, const Array &a) {
  Array out(dt, a.shape());
  for (int64_t i = 0; i < a.numel(); ++i)
    out.setDouble(i, a.getDouble(i));
  return out;
}

} // namespace weft::testing
