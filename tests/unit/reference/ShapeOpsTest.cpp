//===- tests/unit/reference/ShapeOpsTest.cpp - data movement ops ----------===//
#include "Helpers.h"

#include <doctest/doctest.h>

namespace weft::test::reference_ShapeOpsTest {

std::vector<OpCase> shapeCases() {
  std::vector<OpCase> cs;
  cs.push_back({"broadcast, with a symbolic result dim",
                R"(
func @f(%v: tensor<3 x f32>, %c: tensor<2 x 1 x i32>, %x: tensor<B x 3 x f32>) -> (tensor<2 x 3 x f32>, tensor<2 x 3 x i32>, tensor<B x 3 x f32>) {
  %a = broadcast %v {dims = [1]} : tensor<2 x 3 x f32>
  %b = broadcast %c {dims = [0, 1]} : tensor<2 x 3 x i32>
  %s = broadcast %v {dims = [1]} : tensor<B x 3 x f32>
  return %a, %b, %s
}
)",
                {f32({3}, {1, 2, 3}), i32({2, 1}, {1, 2}), f32({2, 3}, {0, 0, 0, 0, 0, 0})},
                {f32({2, 3}, {1, 2, 3, 1, 2, 3}), i32({2, 3}, {1, 1, 1, 2, 2, 2}),
                 f32({2, 3}, {1, 2, 3, 1, 2, 3})}});
  cs.push_back(
      {"reshape and transpose",
       R"(
func @f(%x: tensor<2 x 3 x f64>, %y: tensor<2 x 2 x 3 x i64>) -> (tensor<3 x 2 x f64>, tensor<3 x 2 x f64>, tensor<3 x 2 x 2 x i64>) {
  %r = reshape %x : tensor<3 x 2 x f64>
  %t = transpose %x {perm = [1, 0]} : tensor<3 x 2 x f64>
  %u = transpose %y {perm = [2, 0, 1]} : tensor<3 x 2 x 2 x i64>
  return %r, %t, %u
}
)",
       {f64({2, 3}, {0, 1, 2, 3, 4, 5}), i64({2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})},
       // u[k, i, j] = y[i, j, k] = 6i + 3j + k
       {f64({3, 2}, {0, 1, 2, 3, 4, 5}), f64({3, 2}, {0, 3, 1, 4, 2, 5}),
        i64({3, 2, 2}, {0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11})}});
  cs.push_back(
      {"slice, concat and pad",
       R"(
func @f(%x: tensor<2 x 4 x f32>, %a: tensor<2 x 1 x f32>, %b: tensor<2 x 2 x f32>, %c: tensor<1 x 2 x i32>, %d: tensor<2 x 2 x i32>) -> (tensor<2 x 2 x f32>, tensor<2 x 3 x f32>, tensor<3 x 2 x i32>, tensor<3 x 3 x f32>, tensor<2 x 4 x i32>) {
  %s = slice %x {axis = 1, start = 1, limit = 3} : tensor<2 x 2 x f32>
  %c1 = concat %a, %b {axis = 1} : tensor<2 x 3 x f32>
  %c0 = concat %c, %d {axis = 0} : tensor<3 x 2 x i32>
  %p = pad %b {low = [1, 0], high = [0, 1], value = 9.0} : tensor<3 x 3 x f32>
  %q = pad %d {low = [0, 1], high = [0, 1], value = -1.0} : tensor<2 x 4 x i32>
  return %s, %c1, %c0, %p, %q
}
)",
       {f32({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7}), f32({2, 1}, {1, 2}), f32({2, 2}, {3, 4, 5, 6}),
        i32({1, 2}, {1, 2}), i32({2, 2}, {3, 4, 5, 6})},
       {f32({2, 2}, {1, 2, 5, 6}), f32({2, 3}, {1, 3, 4, 2, 5, 6}), i32({3, 2}, {1, 2, 3, 4, 5, 6}),
        f32({3, 3}, {9, 9, 9, 3, 4, 9, 5, 6, 9}), i32({2, 4}, {-1, 3, 4, -1, -1, 5, 6, -1})}});
  cs.push_back(
      {"gather and scatter_add",
       R"(
func @f(%t: tensor<3 x 2 x f32>, %i: tensor<2 x i32>, %j: tensor<2 x 2 x i64>, %base: tensor<3 x 2 x f32>, %k: tensor<3 x i32>, %u: tensor<3 x 2 x f32>) -> (tensor<2 x 2 x f32>, tensor<3 x 2 x 2 x f32>, tensor<3 x 2 x f32>) {
  %g0 = gather %t, %i {axis = 0} : tensor<2 x 2 x f32>
  %g1 = gather %t, %j {axis = 1} : tensor<3 x 2 x 2 x f32>
  %s = scatter_add %base, %k, %u {axis = 0} : tensor<3 x 2 x f32>
  return %g0, %g1, %s
}
)",
       {f32({3, 2}, {0, 1, 10, 11, 20, 21}), i32({2}, {2, 0}), i64({2, 2}, {1, 1, 0, 1}),
        f32({3, 2}, {1, 1, 1, 1, 1, 1}), i32({3}, {0, 2, 0}), f32({3, 2}, {1, 2, 3, 4, 5, 6})},
       // g1[r, a, b] = t[r, j[a, b]]; rows 0 and 2 of base receive updates 0+2 and 1.
       {f32({2, 2}, {20, 21, 0, 1}), f32({3, 2, 2}, {1, 1, 0, 1, 11, 11, 10, 11, 21, 21, 20, 21}),
        f32({3, 2}, {7, 9, 1, 1, 4, 5})}});
  return cs;
}

TEST_CASE("shape ops match hand-computed values") {
  for (const OpCase &c : shapeCases())
    checkCase(c);
}

} // namespace weft::test::reference_ShapeOpsTest

// Declared in Helpers.h, for CoverageTest.
std::vector<weft::test::OpCase> weft::test::shapeCases() {
  return reference_ShapeOpsTest::shapeCases();
}
