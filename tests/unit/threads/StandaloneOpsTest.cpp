//===- tests/unit/threads/StandaloneOpsTest.cpp - large standalone ops on many threads -===//
//
// Elementwise ops, reductions and shape ops above a size threshold run their rows through
// weft_parallel_for (Emitter::parallelRows). Each row writes only its own outputs and a
// reduction is split only along a kept axis, so every result must be bit-identical at 1, 2
// and 4 threads, and equal to the interpreter's (float sums accumulate in double in its
// order). tests/lit/cpu/parallel_rows.wir pins that these ops are emitted as parallel rows.
//
//===----------------------------------------------------------------------===//
#include "tests/unit/cpu/Parity.h"
#include "tests/unit/threads/ThreadsUtil.h"

namespace weft::threadstest::threads_StandaloneOpsTest {
namespace {

using cputest::Gen;
using cputest::ParamGen;

// R x 700 with R = 300: 210,000 elements per op, above the parallel threshold (2^16).
const char *kOps = R"(
func @f(%a: tensor<R x 700 x f32>, %b: tensor<R x 700 x f32>, %v: tensor<700 x f32>, %ids: tensor<500 x i64>, %n: tensor<R x 700 x i32>) -> (tensor<R x 700 x f32>, tensor<R x 700 x f32>, tensor<700 x f32>, tensor<R x f32>, tensor<R x f32>, tensor<700 x R x f32>, tensor<R x 350 x f32>, tensor<R x 1400 x f32>, tensor<2*R x 700 x f32>, tensor<R x 700 x f32>, tensor<500 x 700 x f32>, tensor<R x i32>) {
  %s = add %a, %b : tensor<R x 700 x f32>
  %p = mul %s, %a : tensor<R x 700 x f32>
  %cols = reduce_sum %p {axes = [0]} : tensor<700 x f32>
  %rows = reduce_mean %p {axes = [1]} : tensor<R x f32>
  %mx = reduce_max %a {axes = [1]} : tensor<R x f32>
  %t = transpose %a {perm = [1, 0]} : tensor<700 x R x f32>
  %sl = slice %b {axis = 1, limit = 600, start = 250} : tensor<R x 350 x f32>
  %c1 = concat %a, %b {axis = 1} : tensor<R x 1400 x f32>
  %c0 = concat %a, %b {axis = 0} : tensor<2*R x 700 x f32>
  %bc = broadcast %v {dims = [1]} : tensor<R x 700 x f32>
  %g = gather %a, %ids {axis = 0} : tensor<500 x 700 x f32>
  %ni = reduce_sum %n {axes = [1]} : tensor<R x i32>
  return %s, %p, %cols, %rows, %mx, %t, %sl, %c1, %c0, %bc, %g, %ni
})";

TEST_CASE("threads: large standalone ops give the same bits at 1, 2 and 4 threads") {
  cputest::Compiled c = cputest::compileText(kOps);
  const ir::Function *f = c.module->function("f");
  ir::DimBindings dims{{"R", 300}};
  std::vector<Array> in =
      cputest::randomInputs(*f, dims, {{3, ParamGen{Gen::Index, 300}}}, /*seed=*/5);
  auto want = reference::run(*f, in, dims);
  REQUIRE_OK(want);
  for (int threads : {1, 2, 4}) {
    CAPTURE(threads);
    ThreadCount count(threads);
    auto got = c.cpu->run("f", in, {.dims = dims});
    REQUIRE_OK(got);
    CHECK(identical(*got, *want));
  }
}

} // namespace
} // namespace weft::threadstest::threads_StandaloneOpsTest
