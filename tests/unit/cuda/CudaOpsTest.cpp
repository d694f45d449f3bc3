// Reductions, shape ops and matmul on the CUDA backend's host device (the kernels' host builds,
// run as a grid whose blocks' threads meet at real barriers) against the reference interpreter:
// odd sizes, symbolic dims, sizes just past a block's or a tile's edge; and their PTX through
// ptxas for sm_80 and sm_90.
#include "backends/Registry.h"
#include "backends/cuda/CudaBackend.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

namespace cuda_CudaOpsTest {

using namespace weft;
using testing::checkAgainstInterpreter;
using testing::checkClose;
using testing::inputFor;

namespace {

const char *kReductions = R"(
func @reduce_f32(%x: tensor<B x 5 x 13 x f32>) -> (tensor<B x 13 x f32>, tensor<B x f32>, tensor<5 x f32>, tensor<B x 5 x f32>, tensor<B x 13 x f32>, tensor<B x 5 x i64>, tensor<f32>) {
  %s = reduce_sum %x {axes = [1]} : tensor<B x 13 x f32>
  %m = reduce_mean %x {axes = [1, 2]} : tensor<B x f32>
  %mx = reduce_max %x {axes = [0, 2]} : tensor<5 x f32>
  %mn = reduce_min %x {axes = [2]} : tensor<B x 5 x f32>
  %no = reduce_max %x {axes = [1]} : tensor<B x 13 x f32>
  %am = argmax %x {axis = 2} : tensor<B x 5 x i64>
  %all = reduce_sum %x {axes = [0, 1, 2]} : tensor<f32>
  return %s, %m, %mx, %mn, %no, %am, %all
}
func @reduce_ints(%x: tensor<7 x N x i32>, %y: tensor<N x 3 x i64>) -> (tensor<N x i32>, tensor<7 x i32>, tensor<N x i64>, tensor<3 x i64>, tensor<N x i64>) {
  %s = reduce_sum %x {axes = [0]} : tensor<N x i32>
  %mx = reduce_max %x {axes = [1]} : tensor<7 x i32>
  %mn = reduce_min %y {axes = [1]} : tensor<N x i64>
  %s64 = reduce_sum %y {axes = [0]} : tensor<3 x i64>
  %am = argmax %x {axis = 0} : tensor<N x i64>
  return %s, %mx, %mn, %s64, %am
}
func @reduce_f64(%x: tensor<N x 30 x f64>) -> (tensor<N x f64>, tensor<30 x f64>) {
  %s = reduce_sum %x {axes = [1]} : tensor<N x f64>
  %m = reduce_mean %x {axes = [0]} : tensor<30 x f64>
  return %s, %m
}
)";

const char *kShapes = R"(
func @moves(%x: tensor<B x 3 x 5 x f32>, %v: tensor<5 x f32>, %i: tensor<B x 2 x i64>, %p: tensor<B x 3 x i1>) -> (tensor<5 x B x 3 x f32>, tensor<B x 3 x 5 x f32>, tensor<B x 3 x 2 x f32>, tensor<B x 3 x 10 x f32>, tensor<B x 6 x 8 x f32>, tensor<2 x B x i64>, tensor<B x 5 x i1>, tensor<B x 2 x 5 x f32>) {
  %t = transpose %x {perm = [2, 0, 1]} : tensor<5 x B x 3 x f32>
  %b = broadcast %v {dims = [2]} : tensor<B x 3 x 5 x f32>
  %s = slice %x {axis = 2, start = 1, limit = 3} : tensor<B x 3 x 2 x f32>
  %c = concat %x, %b {axis = 2} : tensor<B x 3 x 10 x f32>
  %pd = pad %x {low = [0, 1, 2], high = [0, 2, 1], value = -1.5} : tensor<B x 6 x 8 x f32>
  %ti = transpose %i {perm = [1, 0]} : tensor<2 x B x i64>
  %pp = pad %p {low = [0, 1], high = [0, 1], value = 1.0} : tensor<B x 5 x i1>
  %one = slice %x {axis = 1, start = 1, limit = 2} : tensor<B x 1 x 5 x f32>
  %bb = broadcast %one {dims = [0, 1, 2]} : tensor<B x 2 x 5 x f32>
  return %t, %b, %s, %c, %pd, %ti, %pp, %bb
}
)";

const char *kGathers = R"(
func @gathers(%t: tensor<B x 7 x 3 x f32>, %i: tensor<2 x N x i32>, %e: tensor<11 x 4 x i64>, %j: tensor<N x i64>) -> (tensor<B x 2 x N x 3 x f32>, tensor<N x 4 x i64>, tensor<B x 7 x N x f32>) {
  %g = gather %t, %i {axis = 1} : tensor<B x 2 x N x 3 x f32>
  %rows = gather %e, %j {axis = 0} : tensor<N x 4 x i64>
  %last = gather %t, %j {axis = 2} : tensor<B x 7 x N x f32>
  return %g, %rows, %last
}
)";

const char *kMatmuls = R"(
func @matmul_f32(%a: tensor<B x 70 x 37 x f32>, %b: tensor<B x 37 x 129 x f32>, %c: tensor<M x 16 x f32>, %d: tensor<16 x 1 x f32>) -> (tensor<B x 70 x 129 x f32>, tensor<M x 1 x f32>) {
  %ab = matmul %a, %b : tensor<B x 70 x 129 x f32>
  %cd = matmul %c, %d : tensor<M x 1 x f32>
  return %ab, %cd
}
func @matmul_f64(%a: tensor<65 x 33 x f64>, %b: tensor<33 x 64 x f64>) -> (tensor<65 x 64 x f64>) {
  %ab = matmul %a, %b : tensor<65 x 64 x f64>
  return %ab
}
func @matmul_ints(%a: tensor<3 x 17 x i32>, %b: tensor<17 x 5 x i32>, %c: tensor<2 x 0 x i64>, %d: tensor<0 x 3 x i64>) -> (tensor<3 x 5 x i32>, tensor<2 x 3 x i64>) {
  %ab = matmul %a, %b : tensor<3 x 5 x i32>
  %cd = matmul %c, %d : tensor<2 x 3 x i64>
  return %ab, %cd
}
)";

} // namespace

TEST_CASE("cuda on the host device: reductions over any axes match the interpreter") {
  for (int64_t n : {1, 3}) {
    CAPTURE(n);
    // f32 sums accumulate in double and round once, in another order than the interpreter's.
    checkAgainstInterpreter(kReductions, "reduce_f32", {inputFor(DType::F32, {n, 5, 13}, n)}, 1e-7);
    checkAgainstInterpreter(kReductions, "reduce_ints",
                            {inputFor(DType::I32, {7, n}, 3), inputFor(DType::I64, {n, 3}, 5)});
    checkAgainstInterpreter(kReductions, "reduce_f64", {inputFor(DType::F64, {n, 30}, 7)}, 1e-15);
  }
}

TEST_CASE("cuda on the host device: max, min and argmax keep the first of ties and prefer NaN") {
  Array x(DType::F32, {1, 5, 13});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.setDouble(i, i % 3 == 0 ? 0.0 : -0.0); // ties everywhere: which zero comes back shows
  x.setDouble(20, NAN);                      // row 1's argmax, and the max over axes 0 and 2
  x.setDouble(40, 2.0);
  x.setDouble(41, 2.0);
  checkAgainstInterpreter(kReductions, "reduce_f32", {x});
}

TEST_CASE("cuda: a max over an empty axis stops the call, naming the op") {
  auto m = ir::parseModule("func @f(%x: tensor<2 x N x f32>) -> (tensor<2 x f32>) {\n"
                           "  %r = reduce_max %x {axes = [1]} : tensor<2 x f32>\n"
                           "  return %r\n}\n",
                           "max.wir");
  REQUIRE_OK(m);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto r = (*exe)->run("f", std::vector<Array>{Array(DType::F32, {2, 0})});
  REQUIRE_FALSE(r);
  CHECK(r.diag().message ==
        "'reduce_max' (max.wir:2:3): cannot reduce f32[2, 0] over an empty axis");
}

TEST_CASE("cuda on the host device: transpose, broadcast, slice, concat and pad match") {
  for (int64_t n : {1, 4}) {
    CAPTURE(n);
    Array flags(DType::I1, {n, 3});
    for (int64_t i = 0; i < flags.numel(); ++i)
      flags.setInt(i, i % 2);
    checkAgainstInterpreter(kShapes, "moves",
                            {inputFor(DType::F32, {n, 3, 5}, 1), inputFor(DType::F32, {5}, 2),
                             inputFor(DType::I64, {n, 2}, 3), flags});
  }
}

TEST_CASE("cuda on the host device: gather matches the interpreter") {
  for (int64_t n : {1, 5}) {
    CAPTURE(n);
    Array i(DType::I32, {2, n}), j(DType::I64, {n});
    for (int64_t k = 0; k < i.numel(); ++k)
      i.setInt(k, (k * 5 + 3) % 7);
    for (int64_t k = 0; k < n; ++k)
      j.setInt(k, (k * 2 + 1) % 3);
    checkAgainstInterpreter(
        kGathers, "gathers",
        {inputFor(DType::F32, {2, 7, 3}, 1), i, inputFor(DType::I64, {11, 4}, 2), j});
  }
}

TEST_CASE("cuda: a gather index out of range stops the call as on the interpreter") {
  auto m = ir::parseModule(kGathers, "gather.wir");
  REQUIRE_OK(m);
  Array i(DType::I32, {2, 3}), j(DType::I64, {3});
  i.setInt(4, 7); // position [1, 1]; and [1, 2] after it
  i.setInt(5, -1);
  std::vector<Array> in = {inputFor(DType::F32, {1, 7, 3}, 1), i, inputFor(DType::I64, {11, 4}, 2),
                           j};
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto got = (*exe)->run("gathers", in);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message == "'gather' (gather.wir:3:3): index 7 at position [1, 1] of the "
                              "indices is out of range [0, 7) for axis 1 of f32[1, 7, 3]");
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  auto want = (*ref)->run("gathers", in);
  REQUIRE_FALSE(want);
  CHECK(want.diag().message.find("index 7 at position [1, 1] of the indices is out of range "
                                 "[0, 7) for axis 1 of f32[1, 7, 3]") != std::string::npos);
}

TEST_CASE("cuda on the host device: tiled matmul matches the interpreter past every tile edge") {
  // 70 x 37 x 129: two row tiles, three column tiles, K-tiles of 16, 16 and 5; batched over a
  // symbolic B, with more tiles than the host grid has blocks.
  checkAgainstInterpreter(kMatmuls, "matmul_f32",
                          {inputFor(DType::F32, {2, 70, 37}, 1),
                           inputFor(DType::F32, {2, 37, 129}, 2), inputFor(DType::F32, {3, 16}, 3),
                           inputFor(DType::F32, {16, 1}, 4)},
                          1e-6);
  checkAgainstInterpreter(kMatmuls, "matmul_f64",
                          {inputFor(DType::F64, {65, 33}, 5), inputFor(DType::F64, {33, 64}, 6)},
                          1e-14);
  checkAgainstInterpreter(kMatmuls, "matmul_ints",
                          {inputFor(DType::I32, {3, 17}, 7), inputFor(DType::I32, {17, 5}, 8),
                           Array(DType::I64, {2, 0}), Array(DType::I64, {0, 3})});
}

TEST_CASE("cuda on the host device: the tf32 tensor-core matmul, its mma simulated, matches") {
  // Eighths below 3 are exact in tf32, and so are their products and sums in f32: the
  // tensor-core kernel must then give the interpreter's numbers (what this checks is its tiles,
  // fragments and their layouts; the tensor cores themselves run only on a GPU).
  backends::CompileOptions tf32;
  tf32.features = "+tf32";
  auto m = ir::parseModule(kMatmuls);
  REQUIRE_OK(m);
  std::vector<Array> in = {inputFor(DType::F32, {1, 70, 37}, 1),
                           inputFor(DType::F32, {1, 37, 72}, 2), inputFor(DType::F32, {3, 16}, 3),
                           inputFor(DType::F32, {16, 1}, 4)};
  in[1] = Array(DType::F32, {1, 37, 129});
  for (int64_t i = 0; i < in[1].numel(); ++i)
    in[1].setDouble(i, double((i * 13) % 23 - 11) / 8);
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  auto want = (*ref)->run("matmul_f32", in);
  REQUIRE_OK(want);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m, tf32);
  REQUIRE_OK(exe);
  auto got = (*exe)->run("matmul_f32", in);
  REQUIRE_OK(got);
  for (size_t r = 0; r < 2; ++r) {
    CAPTURE(r);
    checkClose((*got)[r], (*want)[r], 0);
  }
}

TEST_CASE("cuda: tf32 is the user's choice; by default f32 matmuls keep every bit") {
  auto m = ir::parseModule("func @f(%a: tensor<1 x 1 x f32>, %b: tensor<1 x 1 x f32>) -> "
                           "(tensor<1 x 1 x f32>) {\n"
                           "  %c = matmul %a, %b : tensor<1 x 1 x f32>\n"
                           "  return %c\n}\n");
  REQUIRE_OK(m);
  Array a(DType::F32, {1, 1}), b(DType::F32, {1, 1});
  a.setDouble(0, 1.0 + std::ldexp(1.0, -12)); // not a tf32 number: it rounds to 1
  b.setDouble(0, 1.0);
  cuda::CudaBackend host(cuda::hostDevice());
  backends::CompileOptions options;
  for (const char *features : {"", "+tf32"}) {
    CAPTURE(features);
    options.features = features;
    auto exe = host.compile(**m, options);
    REQUIRE_OK(exe);
    auto c = (*exe)->run("f", std::vector<Array>{a, b});
    REQUIRE_OK(c);
    CHECK((*c)[0].getDouble(0) == (*features ? 1.0 : a.getDouble(0)));
  }
  options.features = "+fp16";
  auto refused = host.compile(**m, options);
  REQUIRE_FALSE(refused);
  CHECK(refused.diag().message ==
        "the CUDA backend has one feature, +tf32 (f32 matmuls on tensor cores), not '+fp16'");
}

TEST_CASE("cuda: the tf32 matmul is mma.sync PTX that ptxas accepts") {
  auto m = ir::parseModule(kMatmuls);
  REQUIRE_OK(m);
  backends::CompileOptions tf32;
  tf32.features = "+tf32";
  auto ptxas = testing::findPtxas();
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm, tf32);
    REQUIRE_OK(ptx);
    CHECK(ptx->find("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32") != std::string::npos);
    CHECK(ptx->find("cvt.rna.tf32.f32") != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
  if (!ptxas)
    MESSAGE("ptxas not found: the tf32 PTX was not assembled");
}

TEST_CASE("cuda: the reduction, shape and matmul kernels are PTX that ptxas accepts") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  // One module of them all, so that ptxas runs once per GPU generation.
  auto m = ir::parseModule(std::string(kReductions) + kShapes + kGathers + kMatmuls);
  REQUIRE_OK(m);
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    for (const char *kernel :
         {"_reduce_sum(", "_argmax(", "_pad_fill(", "_concat(", "_gather(", "_matmul("})
      CHECK(ptx->find(kernel) != std::string::npos);
    CHECK(ptx->find(".shared") != std::string::npos); // the reduction tree and the matmul tiles
    CHECK(ptx->find("bar.sync") != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

} // namespace cuda_CudaOpsTest
