#include "tests/diff/DiffRunner.h"

#include <doctest/doctest.h>

#include <cmath>

namespace diff_CompareTest {

using namespace weft;
using namespace weft::difftest;

TEST_CASE("compareArrays: integers and i1 exactly, floats within the dtype's bound") {
  CHECK_FALSE(compareArrays(Array::of<int32_t>({2}, {1, 2}), Array::of<int32_t>({2}, {1, 2})));
  CHECK(compareArrays(Array::of<int32_t>({2}, {1, 3}), Array::of<int32_t>({2}, {1, 2})));
  CHECK(compareArrays(Array::of<bool>({1}, {true}), Array::of<bool>({1}, {false})));
  // f32: a few ulps pass, a relative 1e-3 does not.
  float one = 1.0f, near = std::nextafter(std::nextafter(one, 2.0f), 2.0f);
  CHECK_FALSE(compareArrays(Array::of<float>({1}, {near}), Array::of<float>({1}, {one})));
  CHECK(compareArrays(Array::of<float>({1}, {1.001f}), Array::of<float>({1}, {one})));
  // f64 is held to its own precision: 1e-9 relative is far too much.
  CHECK(compareArrays(Array::of<double>({1}, {1 + 1e-9}), Array::of<double>({1}, {1.0})));
  CHECK_FALSE(compareArrays(Array::of<double>({1}, {1 + 1e-14}), Array::of<double>({1}, {1.0})));
  // NaN matches NaN only.
  double nan = std::nan("");
  CHECK_FALSE(compareArrays(Array::of<double>({1}, {nan}), Array::of<double>({1}, {nan})));
  CHECK(compareArrays(Array::of<double>({1}, {nan}), Array::of<double>({1}, {0.0})));
}

TEST_CASE("compareArrays: the bound scales with the array's largest value (cancellation)") {
  // Near 0 next to 1000: an absolute error of 1e-3 is rounding noise of the large values...
  CHECK_FALSE(compareArrays(Array::of<float>({2}, {1e-3f, 1000.0f}),
                            Array::of<float>({2}, {0.0f, 1000.0f})));
  // ...but not next to values of size 1.
  CHECK(compareArrays(Array::of<float>({2}, {1e-3f, 1.0f}), Array::of<float>({2}, {0.0f, 1.0f})));
}

TEST_CASE("compareArrays: a dtype or shape difference is a failure that names both") {
  auto d = compareArrays(Array::of<float>({2}, {1, 2}), Array::of<float>({1, 2}, {1, 2}));
  REQUIRE(d);
  CHECK(*d == "got f32[2] but the interpreter gives f32[1, 2]");
  CHECK(compareArrays(Array::of<float>({1}, {1}), Array::of<double>({1}, {1})));
}

} // namespace diff_CompareTest
