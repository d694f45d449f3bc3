// runtime/DType.h: the accessors expanded from runtime/DTypes.def agree with one another and
// with the C++ element types.
#include "runtime/DType.h"

#include <doctest/doctest.h>

#include <string>

namespace runtime_DTypeTest {

using namespace weft;

TEST_CASE("every dtype parses back from its name and has one byte size per element type") {
  for (DType t : kAllDTypes) {
    CAPTURE(std::string(dtypeName(t)));
    CHECK(parseDType(dtypeName(t)) == t);
    CHECK(isFloat(t) + isInteger(t) + (dtypeKind(t) == DTypeKind::Bool) == 1);
  }
  static_assert(dtypeOf<float>() == DType::F32 && dtypeOf<bool>() == DType::I1);
  static_assert(dtypeBytes(dtypeOf<int64_t>()) == sizeof(int64_t));
  static_assert(dtypeBytes(dtypeOf<bool>()) == sizeof(bool));
  static_assert(!isElementType<char>() && isElementType<int32_t>());
  CHECK(dtypeNpyDescr(DType::F64) == "<f8");
  CHECK(dtypeNpyDescr(DType::I1) == "|b1");
  CHECK(dtypeCType(DType::I1) == "uint8_t");
  CHECK_FALSE(parseDType("f16").has_value());
}

} // namespace runtime_DTypeTest
