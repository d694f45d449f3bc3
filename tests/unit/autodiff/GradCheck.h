//===- tests/unit/autodiff/GradCheck.h - finite-difference gradient checks -===//
#pragma once

#include "runtime/Array.h"

#include <map>
#include <string>
#include <vector>

namespace weft::testing {

/// One gradient check: `ir` holds a function whose first result is a f64 scalar loss.
struct GradCase {
  std::string ir;
  /// Parameters to differentiate; their inputs are drawn uniformly from [lo, hi).
  std::vector<std::string> wrt;
  double lo = -1.0, hi = 1.0;
  /// Inputs given by the case (integer indices, masks, lengths); other parameters are
  /// drawn uniformly from [-1, 1).
  std::map<std::string, Array> fixed = {};
};

/// Builds the gradient function, runs it on the reference interpreter and compares every
/// gradient element with a central difference (h = 1e-5, in f64):
/// |autodiff - fd| <= 1e-6 * (1 + |fd|). Reports failures through doctest.
void checkGradients(const GradCase &c);

} // namespace weft::testing
