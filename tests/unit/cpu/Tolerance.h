//===- tests/unit/cpu/Tolerance.h - how far the JIT may be from the interpreter ===//
//
// One rule for every float comparison of the cpu tests, stated in the terms of the
// computation (ulps of the result, or the length and size of a sum) and turned into a
// number only for the dtype of the result being compared: an f64 result is never judged
// by an f32 bound, or by an absolute literal picked for one dtype.
//
// The interpreter computes floats in double and rounds once per op (reductions and
// matmul: once per result), so it is within u * |want| of the exact value, where u is the
// dtype's unit roundoff (2^-24 for f32, 2^-53 for f64).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/DType.h"
#include "runtime/Support.h"

#include <cmath>
#include <cstdint>
#include <limits>

namespace weft::cputest {

/// The unit roundoff of a float dtype: half the distance from 1 to the next value.
inline double unitRoundoff(DType dt) {
  WEFT_CHECK(dt == DType::F32 || dt == DType::F64, "unitRoundoff needs a float dtype");
  return dt == DType::F32 ? 0x1p-24 : 0x1p-53;
}

/// The smallest positive (subnormal) value of a float dtype: the spacing of values near 0.
inline double subnormalSpacing(DType dt) {
  WEFT_CHECK(dt == DType::F32 || dt == DType::F64, "subnormalSpacing needs a float dtype");
  return dt == DType::F32 ? std::numeric_limits<float>::denorm_min()
                          : std::numeric_limits<double>::denorm_min();
}

/// How far a float result may be from the interpreter's. Exact unless stated otherwise.
struct Tolerance {
  /// Units in the last place of the result (libm's functions vs correctly rounded ones).
  int ulps = 0;
  /// Rounding errors of at most u * magnitude each, where the values the result is computed
  /// from (or the absolute values of a sum's terms, added up) stay below `magnitude`.
  int64_t roundings = 0;
  double magnitude = 0;

  static Tolerance exact() { return {}; }
  static Tolerance ulp(int n) { return {n, 0, 0}; }
  /// A sum of `terms` terms whose absolute values add up to at most `magnitude`, summed in
  /// any order in the result's dtype: within gamma_terms * magnitude of the exact sum
  /// (Higham, Accuracy and Stability of Numerical Algorithms, 3.1).
  static Tolerance sum(int64_t terms, double magnitude) { return {0, terms, magnitude}; }
  /// A chain of `ops` ops on values below `magnitude`, each rounded in the result's dtype
  /// (or within an ulp for libm's functions), where cancellation makes a relative bound
  /// meaningless.
  static Tolerance chain(int64_t ops, double magnitude) { return {0, ops, magnitude}; }

  bool isExact() const { return ulps == 0 && roundings == 0; }

  /// The largest |got - want| allowed for a result `want` of float dtype `dt`, where the
  /// interpreter's result is within u * |want| of the exact one.
  double allowed(DType dt, double want) const {
    double u = unitRoundoff(dt), a = 0;
    // ulp(w) <= 2u|w| for a normal w, and the subnormal spacing below the normal range.
    if (ulps > 0)
      a += ulps * (2 * u * std::fabs(want) + subnormalSpacing(dt));
    if (roundings > 0) {
      double nu = static_cast<double>(roundings) * u;
      WEFT_CHECK(nu < 0.5, "so many roundings leave no useful error bound");
      a += nu / (1 - nu) * magnitude + u * std::fabs(want);
    }
    return a;
  }
};

} // namespace weft::cputest
