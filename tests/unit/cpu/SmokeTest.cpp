#include "backends/cpu/CpuBackend.h"
#include "ir/Parser.h"

#include <doctest/doctest.h>

using namespace weft;

TEST_CASE("cpu: adds two f32 vectors") {
  auto m = ir::parseModule(R"(
func @f(%a: tensor<N x f32>, %b: tensor<N x f32>) -> (tensor<N x f32>) {
  %c = add %a, %b : tensor<N x f32>
  return %c
}
)");
  REQUIRE_MESSAGE(m, m.diag().str());
  auto exe = cpu::compile(**m);
  REQUIRE_MESSAGE(exe, exe.diag().str());
  std::vector<Array> in{Array::of<float>({3}, {1, 2, 3}), Array::of<float>({3}, {10, 20, 30})};
  auto out = (*exe)->run("f", in);
  REQUIRE_MESSAGE(out, out.diag().str());
  CHECK((*out)[0].data<float>()[2] == 33.0f);
}
