// Fusion ops (what passes/FuseElementwise makes) as one kernel on the CUDA backend's host device
// against the reference interpreter: broadcasts of arguments, splat constants, i1 values, an
// in-place result, trailing reductions over inner and outer axes (the interpreter's order, so
// exactly), max over an empty axis as a fault; a model through the fuse-elementwise pass; and
// the kernels through ptxas for sm_80 and sm_90.
#include "passes/PassManager.h"
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>

#include <sstream>

namespace cuda_CudaFusionTest {

using namespace weft;
using testing::checkAgainstInterpreter;
using testing::inputFor;

namespace {

const char *kFusions = R"(
func @bias_tanh(%x: tensor<B x 37 x f32>, %bias: tensor<37 x f32>, %s: tensor<B x 1 x f32>) -> (tensor<B x 37 x f32>, tensor<B x 37 x i1>) {
  %y, %p = fusion %x, %bias, %s {
  ^body(%a: tensor<B x 37 x f32>, %b: tensor<37 x f32>, %c: tensor<B x 1 x f32>):
    %bb = broadcast %b {dims = [1]} : tensor<B x 37 x f32>
    %cb = broadcast %c {dims = [0, 1]} : tensor<B x 37 x f32>
    %t = add %a, %bb : tensor<B x 37 x f32>
    %u = mul %t, %cb : tensor<B x 37 x f32>
    %half = constant {value = [0.5]} : tensor<B x 37 x f32>
    %v = mul %u, %half : tensor<B x 37 x f32>
    %w = tanh %v : tensor<B x 37 x f32>
    %zero = constant {value = [0.0]} : tensor<B x 37 x f32>
    %pos = gt %w, %zero : tensor<B x 37 x i1>
    yield %w, %pos
  } : tensor<B x 37 x f32>, tensor<B x 37 x i1>
  return %y, %p
}
func @softmax_parts(%x: tensor<B x 5 x 300 x f32>) -> (tensor<B x 5 x f32>, tensor<B x 5 x f32>, tensor<B x 5 x 300 x f32>) {
  %m, %s, %e = fusion %x {
  ^body(%a: tensor<B x 5 x 300 x f32>):
    %ex = exp %a : tensor<B x 5 x 300 x f32>
    %mx = reduce_max %a {axes = [2]} : tensor<B x 5 x f32>
    %sm = reduce_sum %ex {axes = [2]} : tensor<B x 5 x f32>
    yield %mx, %sm, %ex
  } : tensor<B x 5 x f32>, tensor<B x 5 x f32>, tensor<B x 5 x 300 x f32>
  return %m, %s, %e
}
func @outer(%x: tensor<N x 3 x i64>, %y: tensor<N x 3 x f64>) -> (tensor<3 x i64>, tensor<3 x f64>, tensor<3 x i64>) {
  %s, %m, %mn = fusion %x, %y {
  ^body(%a: tensor<N x 3 x i64>, %b: tensor<N x 3 x f64>):
    %sq = mul %a, %a : tensor<N x 3 x i64>
    %rs = reduce_sum %sq {axes = [0]} : tensor<3 x i64>
    %rm = reduce_mean %b {axes = [0]} : tensor<3 x f64>
    %rmn = reduce_min %a {axes = [0]} : tensor<3 x i64>
    yield %rs, %rm, %rmn
  } : tensor<3 x i64>, tensor<3 x f64>, tensor<3 x i64>
  return %s, %m, %mn
}
)";

/// A model for the fuse-elementwise pass: a layer, its activation and a mean.
const char *kModel = R"(
func @layer(%x: tensor<B x 6 x f32>, %w: tensor<6 x 9 x f32>, %b: tensor<9 x f32>) -> (tensor<B x 9 x f32>, tensor<B x f32>) {
  %y = matmul %x, %w : tensor<B x 9 x f32>
  %bb = broadcast %b {dims = [1]} : tensor<B x 9 x f32>
  %z = add %y, %bb : tensor<B x 9 x f32>
  %s = sigmoid %z : tensor<B x 9 x f32>
  %r = mul %s, %z : tensor<B x 9 x f32>
  %m = reduce_mean %r {axes = [1]} : tensor<B x f32>
  return %r, %m
}
)";

} // namespace

TEST_CASE("cuda on the host device: a fusion is one kernel that matches the interpreter") {
  for (int64_t b : {1, 3}) {
    CAPTURE(b);
    checkAgainstInterpreter(kFusions, "bias_tanh",
                            {inputFor(DType::F32, {b, 37}, 1), inputFor(DType::F32, {37}, 2),
                             inputFor(DType::F32, {b, 1}, 3)});
    checkAgainstInterpreter(kFusions, "softmax_parts", {inputFor(DType::F32, {b, 5, 300}, 4)});
    checkAgainstInterpreter(kFusions, "outer",
                            {inputFor(DType::I64, {b, 3}, 5), inputFor(DType::F64, {b, 3}, 6)});
  }
}

TEST_CASE("cuda: a fused max over an empty axis stops the call as the interpreter does") {
  auto m = ir::parseModule(kFusions, "fusion.wir");
  REQUIRE_OK(m);
  std::vector<Array> in = {Array(DType::F32, {2, 5, 300})};
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto empty = (*exe)->run(
      "outer", std::vector<Array>{Array(DType::I64, {0, 3}), Array(DType::F64, {0, 3})});
  REQUIRE_FALSE(empty); // reduce_min over N = 0 with 3 results
  CHECK(empty.diag().message ==
        "'fusion' (fusion.wir:29:3): cannot reduce i64[0, 3] over an empty axis");
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  auto want = (*ref)->run("outer",
                          std::vector<Array>{Array(DType::I64, {0, 3}), Array(DType::F64, {0, 3})});
  REQUIRE_FALSE(want);
  CHECK(want.diag().message.find("cannot reduce i64[0, 3] over an empty axis") !=
        std::string::npos);
}

TEST_CASE("cuda on the host device: what fuse-elementwise makes runs as the interpreter runs it") {
  auto m = ir::parseModule(kModel);
  REQUIRE_OK(m);
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE_OK(pm.addPipeline("fuse-elementwise"));
  REQUIRE_OK(pm.run(**m));
  bool fused = false;
  for (const auto &op : (*m)->functions().front()->body().ops())
    fused |= op->kind() == ir::OpKind::Fusion;
  REQUIRE(fused);
  std::vector<Array> in = {inputFor(DType::F32, {4, 6}, 1), inputFor(DType::F32, {6, 9}, 2),
                           inputFor(DType::F32, {9}, 3)};
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  auto want = (*ref)->run("layer", in);
  REQUIRE_OK(want);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto got = (*exe)->run("layer", in);
  REQUIRE_OK(got);
  for (size_t r = 0; r < want->size(); ++r) {
    CAPTURE(r);
    testing::checkClose((*got)[r], (*want)[r], 1e-6);
  }
}

TEST_CASE("cuda: fused kernels are PTX that ptxas accepts") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  auto m = ir::parseModule(kFusions);
  REQUIRE_OK(m);
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    CHECK(ptx->find("_fusion(") != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

} // namespace cuda_CudaFusionTest
