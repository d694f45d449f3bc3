// Integer division cases the CUDA tests share (CudaIntegerDivisionTest.cpp, and the plans of
// GPU code built ahead of time in AotGpuChecksTest.cpp): an elementwise division of each
// integer dtype, and two divisions inside one fusion.
#pragma once

#include "runtime/Array.h"

#include <cstdint>
#include <limits>
#include <vector>

namespace weft::testing {

inline constexpr const char *kDivide =
    R"(func @divide(%a: tensor<N x i32>, %b: tensor<N x i32>, %c: tensor<N x i64>, %d: tensor<N x i64>) -> (tensor<N x i32>, tensor<N x i64>) {
  %q = div %a, %b : tensor<N x i32>
  %r = div %c, %d : tensor<N x i64>
  return %q, %r
}
)";

/// @divide's operands for N = `n`: dividends and divisors of both signs, the extremes, and -1
/// (INT_MIN / -1 wraps); no zero divisor unless `zeroAt` is an element.
inline std::vector<Array> divideOperands(int64_t n, int64_t zeroAt = -1) {
  Array a(DType::I32, {n}), b(DType::I32, {n}), c(DType::I64, {n}), d(DType::I64, {n});
  for (int64_t i = 0; i < n; ++i) {
    int64_t x = (i * 7919) % 201 - 100, y = (i * 31) % 23 - 11;
    if (y == 0)
      y = 3;
    a.setInt(i, i % 11 == 0 ? std::numeric_limits<int32_t>::min() : x * 1000003);
    b.setInt(i, i % 11 == 0 ? -1 : y);
    c.setInt(i, i % 13 == 0 ? std::numeric_limits<int64_t>::min() : x * 99999999977);
    d.setInt(i, i % 13 == 0 ? -1 : -y);
  }
  if (zeroAt >= 0)
    d.setInt(zeroAt, 0);
  return {a, b, c, d};
}

/// Two integer divisions in one fusion, one by a broadcast divisor, one feeding a reduction.
inline constexpr const char *kFusedDivide =
    R"(func @fused(%a: tensor<B x 4 x i32>, %b: tensor<4 x i32>, %c: tensor<B x 4 x i64>, %d: tensor<B x 4 x i64>) -> (tensor<B x 4 x i32>, tensor<B x i64>) {
  %q, %s = fusion %a, %b, %c, %d {
  ^body(%x: tensor<B x 4 x i32>, %y: tensor<4 x i32>, %u: tensor<B x 4 x i64>, %v: tensor<B x 4 x i64>):
    %yb = broadcast %y {dims = [1]} : tensor<B x 4 x i32>
    %q1 = div %x, %yb : tensor<B x 4 x i32>
    %q2 = div %u, %v : tensor<B x 4 x i64>
    %r = reduce_sum %q2 {axes = [1]} : tensor<B x i64>
    yield %q1, %r
  } : tensor<B x 4 x i32>, tensor<B x i64>
  return %q, %s
}
)";

/// @fused's operands for B = `b`: divisors of both signs, none zero, INT_MIN / -1 among them.
inline std::vector<Array> fusedOperands(int64_t b) {
  Array x(DType::I32, {b, 4}), y(DType::I32, {4}), u(DType::I64, {b, 4}), v(DType::I64, {b, 4});
  const int64_t divisors[] = {3, -1, 7, -5};
  for (int64_t i = 0; i < 4; ++i)
    y.setInt(i, divisors[i]);
  for (int64_t i = 0; i < b * 4; ++i) {
    x.setInt(i, i % 9 == 0 ? std::numeric_limits<int32_t>::min() : (i * 7919) % 2001 - 1000);
    u.setInt(i, i % 7 == 0 ? std::numeric_limits<int64_t>::min() : (i * 104729) % 20001 - 10000);
    const int64_t d = i % 5 - 2;
    v.setInt(i, i % 7 == 0 ? -1 : d == 0 ? 9 : d);
  }
  return {x, y, u, v};
}

} // namespace weft::testing
