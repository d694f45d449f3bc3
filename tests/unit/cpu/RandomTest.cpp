//===- tests/unit/cpu/RandomTest.cpp - the JIT's random ops ---------------===//
//
// The JIT's random_uniform / random_normal against the vectors of
// tests/unit/make_random_vectors.py (not only against the interpreter).
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "tests/unit/RandomVectors.h"

namespace weft::cputest::cpu_RandomTest {

TEST_CASE("random ops on the JIT draw the independently computed vectors") {
  Compiled c = compileText(R"(
func @f(%seed: tensor<i64>) -> (tensor<N x f32>, tensor<N x f64>, tensor<N x f32>, tensor<N x f64>) {
  %u = random_uniform %seed : tensor<N x f32>
  %v = random_uniform %seed : tensor<N x f64>
  %n = random_normal %seed : tensor<N x f32>
  %m = random_normal %seed : tensor<N x f64>
  return %u, %v, %n, %m
})");
  for (int64_t seed : testing::kRandomVectorSeeds) {
    CAPTURE(seed);
    std::vector<Array> in{Array::of<int64_t>({}, {seed})};
    auto r = c.cpu->run("f", in, {{"N", 10000}});
    REQUIRE_OK(r);
    for (const testing::RandomVector &v : testing::kRandomVectors) {
      if (v.seed != seed)
        continue;
      CAPTURE(v.counter);
      auto i = static_cast<int64_t>(v.counter);
      CHECK((*r)[0].data<float>()[i] == v.uniformF32);
      CHECK((*r)[1].data<double>()[i] == v.uniformF64);
      CHECK(testing::sameNormal((*r)[2].data<float>()[i], v.normalF64, /*isF32=*/true));
      CHECK(testing::sameNormal((*r)[3].data<double>()[i], v.normalF64, /*isF32=*/false));
    }
  }
}

} // namespace weft::cputest::cpu_RandomTest
