//===- tests/unit/runtime/RandomTest.cpp - the counter-based generator ----===//
//
// runtime/Random.h against values it did not produce: SplitMix64's published
// outputs, and the vectors of tests/unit/make_random_vectors.py.
//
//===----------------------------------------------------------------------===//
#include "runtime/Random.h"

#include "tests/unit/RandomVectors.h"

#include <doctest/doctest.h>

namespace weft::runtime_RandomTest {

TEST_CASE("mix64 is SplitMix64's output function: its published outputs for seed 1234567") {
  // A SplitMix64 generator seeded with s returns mix64(s + k * gamma) for k = 0, 1, 2, ...;
  // these are the first five for s = 1234567 (Rosetta Code, "Pseudo-random
  // numbers/Splitmix64", from Vigna's splitmix64.c).
  const uint64_t gamma = 0x9E3779B97F4A7C15ull;
  const uint64_t published[] = {6457827717110365317ull, 3203168211198807973ull,
                                9817491932198370423ull, 4593380528125082431ull,
                                16408922859458223821ull};
  for (uint64_t k = 0; k < 5; ++k) {
    CAPTURE(k);
    CHECK(random::mix64(1234567 + k * gamma) == published[k]);
  }
}

TEST_CASE("bits, uniform and normal draws match an independent implementation") {
  for (const testing::RandomVector &v : testing::kRandomVectors) {
    CAPTURE(v.seed);
    CAPTURE(v.counter);
    CHECK(random::bits(v.seed, v.counter) == v.bits);
    CHECK(random::uniformF32(v.seed, v.counter) == v.uniformF32);
    CHECK(random::uniformF64(v.seed, v.counter) == v.uniformF64);
    CHECK(testing::sameNormal(random::normalF64(v.seed, v.counter), v.normalF64,
                              /*isF32=*/false));
  }
}

} // namespace weft::runtime_RandomTest
