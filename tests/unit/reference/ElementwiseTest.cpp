//===- tests/unit/reference/ElementwiseTest.cpp - elementwise ops ---------===//
//
// Expected values are computed by hand (transcendentals from Python's math
// module, in double, quoted to 16+ digits).
//
//===----------------------------------------------------------------------===//
#include "Helpers.h"
#include "tests/unit/UnaryOpTests.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace weft::test::reference_ElementwiseTest {
namespace {

OpCase unaryFloat(DType dt) {
  const char *ir = R"(
func @f(%x: tensor<4 x DT>, %y: tensor<4 x DT>) -> (tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>) {
  %neg = neg %x : tensor<4 x DT>
  %abs = abs %x : tensor<4 x DT>
  %sign = sign %x : tensor<4 x DT>
  %relu = relu %x : tensor<4 x DT>
  %floor = floor %x : tensor<4 x DT>
  %ceil = ceil %x : tensor<4 x DT>
  %exp = exp %x : tensor<4 x DT>
  %tanh = tanh %x : tensor<4 x DT>
  %sig = sigmoid %x : tensor<4 x DT>
  %sin = sin %x : tensor<4 x DT>
  %cos = cos %x : tensor<4 x DT>
  %erf = erf %x : tensor<4 x DT>
  %sg = stop_gradient %x : tensor<4 x DT>
  %log = log %y : tensor<4 x DT>
  %sqrt = sqrt %y : tensor<4 x DT>
  %rsqrt = rsqrt %y : tensor<4 x DT>
  return %neg, %abs, %sign, %relu, %floor, %ceil, %exp, %tanh, %sig, %sin, %cos, %erf, %sg, %log, %sqrt, %rsqrt
}
)";
  auto v = [dt](std::vector<double> xs) { return floats(dt, {4}, xs); };
  return {std::string("unary float ") + std::string(dtypeName(dt)),
          withDType(ir, dt),
          {v({-2.0, -0.5, 0.5, 3.0}), v({0.25, 1.0, 4.0, 9.0})},
          {v({2.0, 0.5, -0.5, -3.0}), v({2.0, 0.5, 0.5, 3.0}), v({-1, -1, 1, 1}),
           v({0, 0, 0.5, 3.0}), v({-2, -1, 0, 3}), v({-2, 0, 1, 3}),
           v({0.1353352832366127, 0.6065306597126334, 1.6487212707001282, 20.085536923187668}),
           v({-0.9640275800758169, -0.46211715726000974, 0.46211715726000974, 0.9950547536867305}),
           v({0.11920292202211755, 0.3775406687981454, 0.6224593312018546, 0.9525741268224334}),
           v({-0.9092974268256817, -0.479425538604203, 0.479425538604203, 0.1411200080598672}),
           v({-0.4161468365471424, 0.8775825618903728, 0.8775825618903728, -0.9899924966004454}),
           v({-0.9953222650189527, -0.5204998778130465, 0.5204998778130465, 0.9999779095030014}),
           v({-2.0, -0.5, 0.5, 3.0}),
           v({-1.3862943611198906, 0.0, 1.3862943611198906, 2.1972245773362196}), v({0.5, 1, 2, 3}),
           v({2, 1, 0.5, 1.0 / 3.0})},
          dt == DType::F32 ? 1e-7 : 1e-15};
}

/// The hand values of one float unary op of tests/unit/UnaryOpTests.h.
OpCase unaryTable(const UnaryOpTest &u, DType dt) {
  std::string op(ir::opName(u.kind));
  auto n = static_cast<int64_t>(u.x.size());
  std::string t = fmt::format("tensor<{} x DT>", n);
  std::string text =
      fmt::format("func @f(%x: {0}) -> ({0}) {{\n  %y = {1} %x : {0}\n  return %y\n}}\n", t, op);
  return {op + " " + std::string(dtypeName(dt)),
          withDType(text, dt),
          {floats(dt, {n}, u.x)},
          {floats(dt, {n}, u.y)},
          dt == DType::F32 ? 1e-7 : 1e-15};
}

OpCase binaryFloat(DType dt) {
  const char *ir = R"(
func @f(%a: tensor<4 x DT>, %b: tensor<4 x DT>, %p: tensor<4 x DT>, %q: tensor<4 x DT>) -> (tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>) {
  %add = add %a, %b : tensor<4 x DT>
  %sub = sub %a, %b : tensor<4 x DT>
  %mul = mul %a, %b : tensor<4 x DT>
  %div = div %a, %b : tensor<4 x DT>
  %max = max %a, %b : tensor<4 x DT>
  %min = min %a, %b : tensor<4 x DT>
  %pow = pow %p, %q : tensor<4 x DT>
  return %add, %sub, %mul, %div, %max, %min, %pow
}
)";
  auto v = [dt](std::vector<double> xs) { return floats(dt, {4}, xs); };
  return {std::string("binary float ") + std::string(dtypeName(dt)),
          withDType(ir, dt),
          {v({1.5, -2, 3, 0.5}), v({0.5, 4, -3, 2}), v({2, 9, 0.5, 4}), v({3, 0.5, 2, -1})},
          {v({2, 2, 0, 2.5}), v({1, -6, 6, -1.5}), v({0.75, -8, -9, 1}), v({3, -0.5, -1, 0.25}),
           v({1.5, 4, 3, 2}), v({0.5, -2, -3, 0.5}), v({8, 3, 0.25, 0.25})},
          0};
}

OpCase integerOps(DType dt) {
  const char *ir = R"(
func @f(%a: tensor<4 x DT>, %b: tensor<4 x DT>) -> (tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>, tensor<4 x DT>) {
  %add = add %a, %b : tensor<4 x DT>
  %sub = sub %a, %b : tensor<4 x DT>
  %mul = mul %a, %b : tensor<4 x DT>
  %div = div %a, %b : tensor<4 x DT>
  %max = max %a, %b : tensor<4 x DT>
  %min = min %a, %b : tensor<4 x DT>
  %neg = neg %a : tensor<4 x DT>
  %abs = abs %b : tensor<4 x DT>
  %sign = sign %b : tensor<4 x DT>
  %relu = relu %b : tensor<4 x DT>
  return %add, %sub, %mul, %div, %max, %min, %neg, %abs, %sign, %relu
}
)";
  auto v = [dt](std::vector<int64_t> xs) {
    Array a(dt, {4});
    for (size_t i = 0; i < xs.size(); ++i)
      a.setInt(static_cast<int64_t>(i), xs[i]);
    return a;
  };
  // Division truncates toward zero: 7 / -2 = -3, -7 / 2 = -3.
  return {std::string("integer ops ") + std::string(dtypeName(dt)),
          withDType(ir, dt),
          {v({7, -7, 7, -7}), v({2, 2, -2, -2})},
          {v({9, -5, 5, -9}), v({5, -9, 9, -5}), v({14, -14, -14, 14}), v({3, -3, -3, 3}),
           v({7, 2, 7, -2}), v({2, -7, -2, -7}), v({-7, 7, -7, 7}), v({2, 2, 2, 2}),
           v({1, 1, -1, -1}), v({2, 2, 0, 0})},
          0};
}

OpCase compareAndLogic() {
  const char *ir = R"(
func @f(%a: tensor<3 x f32>, %b: tensor<3 x f32>, %i: tensor<3 x i64>, %j: tensor<3 x i64>, %p: tensor<4 x i1>, %q: tensor<4 x i1>) -> (tensor<3 x i1>, tensor<3 x i1>, tensor<3 x i1>, tensor<3 x i1>, tensor<3 x i1>, tensor<3 x i1>, tensor<3 x i1>, tensor<3 x i1>, tensor<4 x i1>, tensor<4 x i1>, tensor<4 x i1>, tensor<4 x i1>, tensor<4 x i1>) {
  %eq = eq %a, %b : tensor<3 x i1>
  %ne = ne %a, %b : tensor<3 x i1>
  %lt = lt %a, %b : tensor<3 x i1>
  %le = le %a, %b : tensor<3 x i1>
  %gt = gt %a, %b : tensor<3 x i1>
  %ge = ge %a, %b : tensor<3 x i1>
  %ilt = lt %i, %j : tensor<3 x i1>
  %ieq = eq %i, %j : tensor<3 x i1>
  %and = and %p, %q : tensor<4 x i1>
  %or = or %p, %q : tensor<4 x i1>
  %xor = xor %p, %q : tensor<4 x i1>
  %not = not %p : tensor<4 x i1>
  %beq = eq %p, %q : tensor<4 x i1>
  return %eq, %ne, %lt, %le, %gt, %ge, %ilt, %ieq, %and, %or, %xor, %not, %beq
}
)";
  // i64 values that differ only beyond double precision must still compare as different.
  int64_t big = (int64_t(1) << 60) + 1;
  return {"compare and logic",
          ir,
          {f32({3}, {1, 2, 3}), f32({3}, {2, 2, 2}), i64({3}, {big, -1, 5}),
           i64({3}, {big - 1, -1, 6}), i1({4}, {0, 0, 1, 1}), i1({4}, {0, 1, 0, 1})},
          {i1({3}, {0, 1, 0}), i1({3}, {1, 0, 1}), i1({3}, {1, 0, 0}), i1({3}, {1, 1, 0}),
           i1({3}, {0, 0, 1}), i1({3}, {0, 1, 1}), i1({3}, {0, 0, 1}), i1({3}, {0, 1, 0}),
           i1({4}, {0, 0, 0, 1}), i1({4}, {0, 1, 1, 1}), i1({4}, {0, 1, 1, 0}),
           i1({4}, {1, 1, 0, 0}), i1({4}, {1, 0, 0, 1})}};
}

TEST_CASE("f32 results are rounded to f32 after every op") {
  // Evaluated in double and rounded once at the end, (a + b) - b would be 1 and c * c / c
  // would be 1e30; rounded to f32 after each op, a + b = 2^24 + 1 rounds to 2^24 (ties to
  // even) and c * c overflows to infinity.
  auto out = runText(R"(
func @f(%a: tensor<f32>, %b: tensor<f32>, %c: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %s = add %a, %b : tensor<f32>
  %d = sub %s, %b : tensor<f32>
  %m = mul %c, %c : tensor<f32>
  %q = div %m, %c : tensor<f32>
  return %d, %q
}
)",
                     {f32({}, {1}), f32({}, {0x1p24f}), f32({}, {1e30f})});
  REQUIRE(out.isOk());
  CHECK((*out)[0].data<float>()[0] == 0.0f);
  CHECK((*out)[1].data<float>()[0] == std::numeric_limits<float>::infinity());
}

TEST_CASE("i32 arithmetic wraps around") {
  auto out = runText(R"(
func @f(%a: tensor<2 x i32>, %b: tensor<2 x i32>) -> (tensor<2 x i32>, tensor<2 x i32>) {
  %s = add %a, %b : tensor<2 x i32>
  %d = div %a, %b : tensor<2 x i32>
  return %s, %d
}
)",
                     {i32({2}, {2147483647, -2147483647 - 1}), i32({2}, {1, -1})});
  REQUIRE(out.isOk());
  CHECK((*out)[0].getInt(0) == -2147483647 - 1);
  CHECK((*out)[1].getInt(1) == -2147483647 - 1); // INT_MIN / -1 wraps
}

TEST_CASE("max and min propagate NaN") {
  double nan = std::numeric_limits<double>::quiet_NaN();
  auto out = runText(R"(
func @f(%a: tensor<2 x f64>, %b: tensor<2 x f64>) -> (tensor<2 x f64>, tensor<2 x f64>) {
  %mx = max %a, %b : tensor<2 x f64>
  %mn = min %a, %b : tensor<2 x f64>
  return %mx, %mn
}
)",
                     {f64({2}, {nan, 1}), f64({2}, {1, nan})});
  REQUIRE(out.isOk());
  for (int r = 0; r < 2; ++r)
    for (int i = 0; i < 2; ++i)
      CHECK(std::isnan((*out)[r].getDouble(i)));
}

} // namespace

std::vector<OpCase> elementwiseCases() {
  OpCase sel{"select",
             R"(
func @f(%c: tensor<3 x i1>, %a: tensor<3 x i32>, %b: tensor<3 x i32>) -> (tensor<3 x i32>) {
  %s = select %c, %a, %b : tensor<3 x i32>
  return %s
}
)",
             {i1({3}, {1, 0, 1}), i32({3}, {1, 2, 3}), i32({3}, {10, 20, 30})},
             {i32({3}, {1, 20, 3})}};
  double nan = std::numeric_limits<double>::quiet_NaN();
  // float -> int truncates toward zero and saturates, NaN -> 0; -> i1 is x != 0.
  OpCase cast{"cast",
              R"(
func @f(%x: tensor<6 x f32>, %i: tensor<2 x i64>, %d: tensor<f64>) -> (tensor<6 x i32>, tensor<6 x i1>, tensor<6 x i64>, tensor<2 x f32>, tensor<2 x i1>, tensor<f32>) {
  %a = cast %x : tensor<6 x i32>
  %b = cast %x : tensor<6 x i1>
  %c = cast %x : tensor<6 x i64>
  %e = cast %i : tensor<2 x f32>
  %f = cast %i : tensor<2 x i1>
  %g = cast %d : tensor<f32>
  return %a, %b, %c, %e, %f, %g
}
)",
              {f32({6}, {-1.7f, 2.9f, static_cast<float>(nan), 3e10f, -3e10f, 0.0f}),
               i64({2}, {5, 0}), f64({}, {0.1})},
              {i32({6}, {-1, 2, 0, 2147483647, -2147483647 - 1, 0}), i1({6}, {1, 1, 1, 1, 1, 0}),
               i64({6}, {-1, 2, 0, 30000001024, -30000001024, 0}), f32({2}, {5, 0}),
               i1({2}, {1, 0}), f32({}, {0.1f})}};
  std::vector<OpCase> cases = {unaryFloat(DType::F32),
                               unaryFloat(DType::F64),
                               binaryFloat(DType::F32),
                               binaryFloat(DType::F64),
                               integerOps(DType::I32),
                               integerOps(DType::I64),
                               compareAndLogic(),
                               sel,
                               cast};
  for (const UnaryOpTest &u : unaryOpTests())
    for (DType dt : {DType::F32, DType::F64})
      cases.push_back(unaryTable(u, dt));
  return cases;
}

TEST_CASE("elementwise ops match hand-computed values") {
  for (const OpCase &c : elementwiseCases())
    checkCase(c);
}

} // namespace weft::test::reference_ElementwiseTest

// Declared in Helpers.h, for CoverageTest.
std::vector<weft::test::OpCase> weft::test::elementwiseCases() {
  return reference_ElementwiseTest::elementwiseCases();
}
