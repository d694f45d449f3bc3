#include "ir/Type.h"

#include <doctest/doctest.h>

namespace ir_TypeTest {

using namespace weft::ir;

TEST_CASE("dims multiply, add and divide as monomials") {
  Dim b = Dim::symbol("B"), t = Dim::symbol("T");
  CHECK((t * b).str() == "B*T");
  CHECK((Dim(2) * b).str() == "2*B");
  CHECK(b.plus(b)->str() == "2*B");
  CHECK_FALSE(b.plus(t).has_value());
  CHECK(Dim(64).plus(Dim(128))->str() == "192");
  CHECK((t * b).dividedBy(t)->str() == "B");
  CHECK_FALSE(b.dividedBy(t).has_value());
}

TEST_CASE("dims evaluate under bindings and name unbound symbols") {
  Dim bt = Dim::symbol("B") * Dim::symbol("T") * Dim(3);
  CHECK(*bt.evaluate({{"B", 2}, {"T", 5}}) == 30);
  auto missing = bt.evaluate({{"B", 2}});
  REQUIRE_FALSE(missing.isOk());
  CHECK(missing.diag().message == "symbolic dim 'T' is not bound");
}

TEST_CASE("tensor types print in IR syntax") {
  CHECK(Type({Dim::symbol("B"), 64}, DType::F32).str() == "tensor<B x 64 x f32>");
  CHECK(Type({}, DType::I64).str() == "tensor<i64>");
}

} // namespace ir_TypeTest
