//===- tests/unit/cpu/ToleranceTest.cpp - the parity comparison can fail --===//
//
// The helpers every parity test leans on (Parity.h, Tolerance.h) tell apart what they must:
// signed zeros, NaN from numbers, and an f64 result from one only as good as f32.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"

#include <bit>
#include <limits>

namespace weft::cputest::cpu_ToleranceTest {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

/// A quiet NaN with the given payload in its low bits.
double nanWithPayload(uint64_t payload) {
  return std::bit_cast<double>(std::bit_cast<uint64_t>(kNaN) | payload);
}

TEST_CASE("sameBits tells signed zeros and NaNs of another payload or sign apart") {
  CHECK(sameBits(1.5, 1.5));
  CHECK(sameBits(-0.0, -0.0));
  CHECK_FALSE(sameBits(-0.0, 0.0));
  CHECK_FALSE(sameBits(0.0, -0.0));
  CHECK(sameBits(kNaN, kNaN));
  CHECK_FALSE(sameBits(kNaN, -kNaN));
  CHECK_FALSE(sameBits(nanWithPayload(1), nanWithPayload(2)));
  CHECK_FALSE(sameBits(kInf, std::numeric_limits<double>::max()));
}

TEST_CASE("a float result matches the interpreter's NaN by being NaN, and zeros by their sign") {
  CHECK(sameFloat(kNaN, -kNaN));
  CHECK(sameFloat(nanWithPayload(1), nanWithPayload(2)));
  CHECK_FALSE(sameFloat(kNaN, 0.0));
  CHECK_FALSE(sameFloat(-0.0, 0.0));
  for (Tolerance tol : {Tolerance::exact(), Tolerance::ulp(4)}) {
    CHECK_FALSE(closeEnough(-0.0, 0.0, DType::F32, tol));
    CHECK_FALSE(closeEnough(0.0, -0.0, DType::F64, tol));
  }
  // A sum's zero takes its sign from the order of its terms.
  CHECK(closeEnough(-0.0, 0.0, DType::F32, Tolerance::sum(8, 1)));
}

TEST_CASE("infinities and NaN are never within a tolerance of anything else") {
  Tolerance loose = Tolerance::sum(1000, 1e300);
  CHECK(closeEnough(kInf, kInf, DType::F64, loose));
  CHECK_FALSE(closeEnough(kInf, -kInf, DType::F64, loose));
  CHECK_FALSE(closeEnough(kInf, 1e300, DType::F64, loose));
  CHECK_FALSE(closeEnough(1.0, kNaN, DType::F64, loose));
  CHECK_FALSE(closeEnough(kNaN, 1.0, DType::F64, loose));
}

TEST_CASE("tolerances take their bound from the dtype of the result compared") {
  CHECK(unitRoundoff(DType::F32) == 0x1p-24);
  CHECK(unitRoundoff(DType::F64) == 0x1p-53);
  // 4 ulps: 1.0 + 4 ulps passes, 1.0 + 5 ulps does not, in each dtype.
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtypeName(dt));
    double ulp = 2 * unitRoundoff(dt);
    CHECK(closeEnough(1 + 4 * ulp, 1.0, dt, Tolerance::ulp(4)));
    CHECK_FALSE(closeEnough(1 + 5 * ulp, 1.0, dt, Tolerance::ulp(4)));
    CHECK_FALSE(closeEnough(1 + ulp, 1.0, dt, Tolerance::exact()));
    // Near zero an ulp is the subnormal spacing.
    CHECK(closeEnough(3 * subnormalSpacing(dt), 0.0, dt, Tolerance::ulp(4)));
    CHECK_FALSE(closeEnough(5 * subnormalSpacing(dt), 0.0, dt, Tolerance::ulp(4)));
  }
  // A matmul over K = 100: an f64 result off by 1e-9 is wrong, though f32 would allow it.
  Tolerance mm = matmulTolerance(100);
  CHECK(closeEnough(1 + 1e-9, 1.0, DType::F32, mm));
  CHECK_FALSE(closeEnough(1 + 1e-9, 1.0, DType::F64, mm));
  CHECK(closeEnough(1 + 1e-12, 1.0, DType::F64, mm));
  // The bound grows with the length of the sum.
  CHECK(matmulTolerance(200).allowed(DType::F32, 1.0) > 3 * mm.allowed(DType::F32, 1.0));
}

TEST_CASE("special values hold every pair of the values for two float operands") {
  std::mt19937_64 rng(1);
  std::vector<double> v = specialValues(DType::F32);
  auto n = static_cast<int64_t>(v.size());
  Array a = randomArray(DType::F32, {n * n}, {Gen::Special, 0}, rng);
  Array b = randomArray(DType::F32, {n * n}, {Gen::Special, 1}, rng);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      CAPTURE(i);
      CAPTURE(j);
      CHECK(sameFloat(a.getDouble(j * n + i), v[static_cast<size_t>(i)]));
      CHECK(sameFloat(b.getDouble(j * n + i), v[static_cast<size_t>(j)]));
    }
  // Each value is exact in f32: the f32 array keeps -0.0 and the subnormals.
  for (size_t k = 0; k < v.size(); ++k)
    CHECK(sameFloat(static_cast<double>(static_cast<float>(v[k])), v[k]));
}

} // namespace
} // namespace weft::cputest::cpu_ToleranceTest
