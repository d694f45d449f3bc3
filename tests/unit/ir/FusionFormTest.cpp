// The kernel form of a fusion body (ir/Fusion.h): what parses, and the rule each bad body breaks.
#include "ir/Fusion.h"
#include "ir/Parser.h"

#include <doctest/doctest.h>

#include <string>

namespace ir_FusionFormTest {

using namespace weft::ir;

namespace {

/// The error of parsing a function whose body is a fusion over %x: tensor<4 x 3 x f32> and
/// %v: tensor<3 x f32> with `ops` and `yield` in its body, or "ok".
std::string fusionError(const std::string &ops, const std::string &yield,
                        const std::string &resultTypes) {
  std::string text = "func @f(%x: tensor<4 x 3 x f32>, %v: tensor<3 x f32>) -> (" + resultTypes +
                     ") {\n"
                     "  %r = fusion %x, %v {\n"
                     "  ^body(%a: tensor<4 x 3 x f32>, %b: tensor<3 x f32>):\n" +
                     ops + "    yield " + yield + "\n  } : " + resultTypes + "\n  return %r\n}\n";
  auto m = parseModule(text, "t.wir");
  return m.isOk() ? "ok" : m.diag().message;
}

const char *k43 = "tensor<4 x 3 x f32>";

} // namespace

TEST_CASE("a fusion body in kernel form parses and reports its domain and reduction axes") {
  auto m = parseModule("func @f(%x: tensor<B x 3 x f32>) -> (tensor<B x f32>) {\n"
                       "  %r = fusion %x {\n"
                       "  ^body(%a: tensor<B x 3 x f32>):\n"
                       "    %e = exp %a : tensor<B x 3 x f32>\n"
                       "    %s = reduce_sum %e {axes = [1]} : tensor<B x f32>\n"
                       "    yield %s\n"
                       "  } : tensor<B x f32>\n"
                       "  return %r\n}\n",
                       "t.wir");
  REQUIRE(m.isOk());
  const Op &fusion = *(*m)->functions()[0]->body().ops().front();
  auto form = fusionForm(fusion.region());
  REQUIRE(form.isOk());
  CHECK(Type(form->domain, weft::DType::F32).str() == "tensor<B x 3 x f32>");
  CHECK(form->hasReduction);
  CHECK(form->reduceAxes == std::vector<int64_t>{1});
}

TEST_CASE("fusion bodies that break the kernel form are rejected with the rule") {
  CHECK(fusionError("    %t = tanh %a : tensor<4 x 3 x f32>\n", "%t", k43) == "ok");
  CHECK(fusionError("    %t = transpose %a {perm = [1, 0]} : tensor<3 x 4 x f32>\n", "%t",
                    "tensor<3 x 4 x f32>") ==
        "fusion: this op cannot be part of a fused kernel (transpose)");
  CHECK(fusionError("    %t = tanh %b : tensor<3 x f32>\n"
                    "    %u = tanh %a : tensor<4 x 3 x f32>\n",
                    "%u", k43) ==
        "fusion: operand tensor<4 x 3 x f32> is not over the iteration domain tensor<3 x f32> "
        "(tanh)");
  CHECK(fusionError("    %c = constant {value = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, "
                    "10.0, 11.0, 12.0]} : tensor<4 x 3 x f32>\n",
                    "%c",
                    k43) == "fusion: only splat constants (one value) can be fused (constant)");
  CHECK(fusionError("    %t = tanh %a : tensor<4 x 3 x f32>\n"
                    "    %s = reduce_sum %t {axes = [1]} : tensor<4 x f32>\n"
                    "    %q = reduce_sum %t {axes = [0]} : tensor<3 x f32>\n",
                    "%s", "tensor<4 x f32>") ==
        "fusion: all reductions of a fused kernel must remove the same axes (reduce_sum)");
  CHECK(fusionError("    %s = reduce_sum %a {axes = [1]} : tensor<4 x f32>\n"
                    "    %e = exp %s : tensor<4 x f32>\n",
                    "%e",
                    "tensor<4 x f32>") == "fusion: a reduction's result may only be yielded (exp)");
  CHECK(fusionError("    %t = tanh %a : tensor<4 x 3 x f32>\n"
                    "    %bb = broadcast %t {dims = [0, 1]} : tensor<4 x 3 x f32>\n",
                    "%bb", k43) == "fusion: a broadcast must read a fusion argument (broadcast)");
  CHECK(fusionError("", "%a", k43) == "fusion: a fused kernel yields only values its ops compute "
                                      "(yield)");
}

TEST_CASE("a fusion body may not capture values from outside") {
  auto m = parseModule("func @f(%x: tensor<3 x f32>, %y: tensor<3 x f32>) -> (tensor<3 x f32>) {\n"
                       "  %r = fusion %x {\n"
                       "  ^body(%a: tensor<3 x f32>):\n"
                       "    %s = add %a, %y : tensor<3 x f32>\n"
                       "    yield %s\n"
                       "  } : tensor<3 x f32>\n"
                       "  return %r\n}\n",
                       "t.wir");
  REQUIRE_FALSE(m.isOk());
  CHECK(m.diag().message ==
        "fusion: uses a value from outside the fusion; pass it as an operand (add)");
}

} // namespace ir_FusionFormTest
