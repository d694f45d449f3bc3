#include "ir/Signature.h"

#include "ir/Parser.h"

#include <doctest/doctest.h>

namespace ir_SignatureTest {

using namespace weft;

TEST_CASE("a signature makes zeros of a static parameter and refuses a symbolic one") {
  auto m = ir::parseModule(R"(
func @step(%w: tensor<2 x 3 x f32>, %x: tensor<B x f32>) -> (tensor<2 x 3 x f32>) {
  return %w
}
)");
  REQUIRE(m.isOk());
  ir::Signature sig = ir::Signature::of(*(*m)->functions()[0]);
  Array z = sig.zerosOf(0).take();
  CHECK(z.dtype() == DType::F32);
  CHECK(z.shape() == std::vector<int64_t>{2, 3});
  for (int64_t i = 0; i < z.numel(); ++i)
    CHECK(z.getDouble(i) == 0.0);
  auto symbolic = sig.zerosOf(1);
  REQUIRE_FALSE(symbolic.isOk());
  CHECK(symbolic.diag().message ==
        "@step: parameter 'x' has a symbolic shape; it has no zeros of its own");
  REQUIRE_FALSE(sig.zerosOf(2).isOk());
  CHECK(sig.zerosOf(2).diag().message == "@step has no parameter 2");
}

} // namespace ir_SignatureTest
