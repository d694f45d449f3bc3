//===- frontend/Init.h - parameter initializers ---------------------------===//
//
// How Graph::initParams draws a parameter's first value. Fans come from the
// last two dims of the shape, [..., fan_in, fan_out] (a weight applied as
// matmul(x, W)); a rank-1 shape [n] has fan_in = fan_out = n.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"

#include <cstdint>
#include <string>
#include <vector>

namespace weft {

/// An initializer: a distribution, resolved against the parameter's shape when drawn.
struct Init {
  enum class Kind { Constant, Uniform, Normal, Xavier, He, Lecun };
  Kind kind = Kind::Constant;
  /// Constant: the value; Uniform: low and high; Normal: a is the standard deviation.
  double a = 0.0, b = 0.0;

  /// "xavier", "uniform(-1.0, 1.0)", ... for messages.
  std::string str() const;
};

namespace init {
inline Init zeros() { return {Init::Kind::Constant, 0.0, 0.0}; }
inline Init constant(double v) { return {Init::Kind::Constant, v, 0.0}; }
/// Uniform in [lo, hi).
inline Init uniform(double lo, double hi) { return {Init::Kind::Uniform, lo, hi}; }
/// Normal with mean 0.
inline Init normal(double stddev) { return {Init::Kind::Normal, stddev, 0.0}; }
/// Glorot uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)).
inline Init xavier() { return {Init::Kind::Xavier, 0.0, 0.0}; }
/// He normal: N(0, 2 / fan_in).
inline Init he() { return {Init::Kind::He, 0.0, 0.0}; }
/// LeCun normal: N(0, 1 / fan_in).
inline Init lecun() { return {Init::Kind::Lecun, 0.0, 0.0}; }
} // namespace init

/// Fills a new array of `dtype` and static `shape` from `init` with the counter-based
/// generator of runtime/Random.h, stream `seed`. Errors (as values) for integer dtypes with a
/// random initializer.
Expected<Array> drawInit(const Init &init, DType dtype, const std::vector<int64_t> &shape,
                         int64_t seed);

} // namespace weft
