//===- runtime/Random.h - counter-based random numbers --------------------===//
//
// random_uniform / random_normal are pure functions of (seed, element index),
// so every backend computes the same numbers without shared state: element i
// draws from bits(seed, i) (normal uses 2i and 2i+1). Uniform values are
// bit-identical across backends; normal values go through log/cos/sqrt and
// agree to the accuracy of those functions.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cmath>
#include <cstdint>

namespace weft::random {

/// The splitmix64 finalizer: a bijective mix of 64 bits.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// 64 random bits for counter `i` of stream `seed`.
constexpr uint64_t bits(int64_t seed, uint64_t i) {
  return mix64(mix64(static_cast<uint64_t>(seed)) ^ i);
}

/// Uniform in [0, 1) with 24 random bits (exactly representable in f32).
constexpr float uniformF32(int64_t seed, uint64_t i) {
  return static_cast<float>(bits(seed, i) >> 40) * 0x1.0p-24f;
}
/// Uniform in [0, 1) with 53 random bits.
constexpr double uniformF64(int64_t seed, uint64_t i) {
  return static_cast<double>(bits(seed, i) >> 11) * 0x1.0p-53;
}
/// Standard normal by Box-Muller from counters 2i and 2i+1, computed in double.
inline double normalF64(int64_t seed, uint64_t i) {
  double u1 = (static_cast<double>(bits(seed, 2 * i) >> 11) + 1.0) * 0x1.0p-53; // (0, 1]
  double u2 = static_cast<double>(bits(seed, 2 * i + 1) >> 11) * 0x1.0p-53;     // [0, 1)
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

} // namespace weft::random
