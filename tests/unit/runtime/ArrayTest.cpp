// Array: zero-filled by default; uninitialized() skips the fill (and poisons in debug builds).
#include "runtime/Array.h"

#include <doctest/doctest.h>

#include <cmath>

namespace runtime_ArrayTest {

using weft::Array;
using weft::DType;

TEST_CASE("a new array is zero-filled and a copy holds the same values") {
  Array a(DType::F32, {2, 3});
  for (int64_t i = 0; i < a.numel(); ++i)
    CHECK(a.getDouble(i) == 0.0);
  a.setDouble(4, 2.5);
  Array b = a;
  CHECK(b.shape() == std::vector<int64_t>{2, 3});
  CHECK(b.getDouble(4) == 2.5);
  CHECK(b.getDouble(3) == 0.0);
}

TEST_CASE("an uninitialized array has its type and shape; debug builds poison it") {
  Array a = Array::uninitialized(DType::F64, {4, 5});
  CHECK(a.dtype() == DType::F64);
  CHECK(a.shape() == std::vector<int64_t>{4, 5});
  CHECK(a.nbytes() == 160);
#ifndef NDEBUG
  for (int64_t i = 0; i < a.numel(); ++i)
    CHECK(std::isnan(a.getDouble(i)));
  Array n = Array::uninitialized(DType::I32, {3});
  CHECK(n.getInt(2) == -1);
#endif
  CHECK_THROWS(Array::uninitialized(DType::F32, {2, -1}));
}

TEST_CASE("copying a default-constructed array gives an empty one, reading nothing") {
  Array none;
  Array copy(none);
  CHECK(copy.numel() == 0);
  CHECK(copy.data() == nullptr);
  Array assigned = Array::of<float>({2}, {1.0f, 2.0f});
  assigned = none;
  CHECK(assigned.numel() == 0);
  CHECK(assigned.data() == nullptr);
}

} // namespace runtime_ArrayTest
