//===- tests/unit/reference/RandomTest.cpp - random_uniform / random_normal ===//
#include "Helpers.h"
#include "tests/unit/RandomVectors.h"

#include <doctest/doctest.h>

#include <cmath>

namespace weft::test::reference_RandomTest {
namespace {

const char *kRandom = R"(
func @f(%seed: tensor<i64>) -> (tensor<100 x 100 x f32>, tensor<100 x 100 x f64>, tensor<100 x 100 x f32>, tensor<100 x 100 x f64>) {
  %u = random_uniform %seed : tensor<100 x 100 x f32>
  %v = random_uniform %seed : tensor<100 x 100 x f64>
  %n = random_normal %seed : tensor<100 x 100 x f32>
  %m = random_normal %seed : tensor<100 x 100 x f64>
  return %u, %v, %n, %m
}
)";

std::vector<Array> draw(int64_t seed) {
  auto out = runText(kRandom, {i64({}, {seed})});
  REQUIRE(out.isOk());
  return std::move(*out);
}

} // namespace

TEST_CASE("random ops draw the independently computed vectors, element i on counter i") {
  for (int64_t seed : testing::kRandomVectorSeeds) {
    CAPTURE(seed);
    std::vector<Array> r = draw(seed);
    for (const testing::RandomVector &v : testing::kRandomVectors) {
      if (v.seed != seed)
        continue;
      CAPTURE(v.counter);
      auto i = static_cast<int64_t>(v.counter);
      CHECK(r[0].data<float>()[i] == v.uniformF32);
      CHECK(r[1].data<double>()[i] == v.uniformF64);
      CHECK(testing::sameNormal(r[2].data<float>()[i], v.normalF64, /*isF32=*/true));
      CHECK(testing::sameNormal(r[3].data<double>()[i], v.normalF64, /*isF32=*/false));
    }
  }
}

TEST_CASE("the same seed gives the same numbers and different seeds differ") {
  std::vector<Array> a = draw(7), b = draw(7), c = draw(8);
  for (size_t k = 0; k < a.size(); ++k) {
    CAPTURE(k);
    CHECK(std::memcmp(a[k].data(), b[k].data(), a[k].nbytes()) == 0);
    int64_t same = 0;
    for (int64_t i = 0; i < a[k].numel(); ++i)
      same += a[k].getDouble(i) == c[k].getDouble(i);
    CHECK(same < 10);
  }
}

TEST_CASE("uniform numbers lie in [0, 1) and normal numbers have mean 0 and std 1") {
  std::vector<Array> r = draw(123);
  for (size_t k : {0, 1}) {
    CAPTURE(k);
    double lo = 1, hi = 0;
    for (int64_t i = 0; i < r[k].numel(); ++i) {
      lo = std::min(lo, r[k].getDouble(i));
      hi = std::max(hi, r[k].getDouble(i));
    }
    CHECK(lo >= 0.0);
    CHECK(hi < 1.0);
    // With 10000 draws the extremes are within ~1e-3 of the ends of [0, 1).
    CHECK(lo < 0.01);
    CHECK(hi > 0.99);
  }
  for (size_t k : {2, 3}) {
    CAPTURE(k);
    const Array &a = r[k];
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
      sum += a.getDouble(i);
      sq += a.getDouble(i) * a.getDouble(i);
    }
    double n = static_cast<double>(a.numel());
    double mean = sum / n, var = sq / n - mean * mean;
    // For N = 10000 standard normal draws, the sample mean has std 1/sqrt(N) = 0.01 and the
    // sample variance has std sqrt(2/N) ~= 0.014; 0.05 is 5 and 3.5 standard deviations, so a
    // correct generator fails with probability < 1e-3 (and the seed is fixed, so never flakes).
    CHECK(std::fabs(mean) < 0.05);
    CHECK(std::fabs(var - 1.0) < 0.05);
  }
}

} // namespace weft::test::reference_RandomTest
