// The CUDA backend's executables, run on the host device (the kernels' host builds, the same
// buffer plan, one allocation per call, copies at the boundary) against the reference
// interpreter; the registered backend on this machine; and what it does not compile yet.
#include "backends/cuda/CudaBackend.h"

#include "backends/Registry.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <string>
#include <vector>

namespace cuda_CudaBackendTest {

using namespace weft;

namespace {

// Elementwise chains of several dtypes, a symbolic batch, a splat constant of a symbolic shape,
// a static constant, a reshape, a returned parameter and a declared in-place update.
const char *kModule = R"(
func @chain(%x: tensor<B x 3 x f32>, %y: tensor<B x 3 x f32>, %k: tensor<B x 3 x i32>) -> (tensor<B x 3 x f32>, tensor<3 x B x f32>, tensor<B x 3 x i1>, tensor<B x 3 x f32>) {
  %two = constant {value = [2.0]} : tensor<B x 3 x f32>
  %a = mul %x, %two : tensor<B x 3 x f32>
  %b = sub %a, %y : tensor<B x 3 x f32>
  %r = relu %b : tensor<B x 3 x f32>
  %t = tanh %r : tensor<B x 3 x f32>
  %kf = cast %k : tensor<B x 3 x f32>
  %s = add %t, %kf : tensor<B x 3 x f32>
  %v = reshape %s : tensor<3 x B x f32>
  %gt = gt %x, %y : tensor<B x 3 x i1>
  %m = select %gt, %x, %y : tensor<B x 3 x f32>
  return %m, %v, %gt, %x
}
func @table() -> (tensor<2 x 2 x i64>) {
  %c = constant {value = [1, -2, 3, 9000000000]} : tensor<2 x 2 x i64>
  %d = add %c, %c : tensor<2 x 2 x i64>
  return %d
}
func @sgd(%w: tensor<4 x f32>, %g: tensor<4 x f32>) -> (tensor<4 x f32>) aliases(0 = %w) {
  %lr = constant {value = [0.5]} : tensor<4 x f32>
  %step = mul %g, %lr : tensor<4 x f32>
  %w2 = sub %w, %step : tensor<4 x f32>
  return %w2
}
)";

Array filled(DType t, std::vector<int64_t> shape, double start, double step) {
  Array a(t, std::move(shape));
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (isFloat(t))
      a.setDouble(i, start + step * double(i) * (i % 2 ? -1 : 1));
    else
      a.setInt(i, static_cast<int64_t>(start) + i * static_cast<int64_t>(step));
  }
  return a;
}

/// Same dtype, shape and elements: bit for bit, except tanh's last-bit rounding (2 ulps).
void checkSame(const Array &got, const Array &want) {
  REQUIRE(got.dtype() == want.dtype());
  REQUIRE(got.shape() == want.shape());
  for (int64_t i = 0; i < want.numel(); ++i) {
    CAPTURE(i);
    if (isFloat(want.dtype())) {
      float g = static_cast<float>(got.getDouble(i)), w = static_cast<float>(want.getDouble(i));
      CHECK(std::abs(std::bit_cast<int32_t>(g) - std::bit_cast<int32_t>(w)) <= 2);
    } else {
      CHECK(got.getInt(i) == want.getInt(i));
    }
  }
}

std::vector<Array> runOn(const backends::Backend &b, std::string_view fn,
                         const std::vector<Array> &in) {
  auto m = ir::parseModule(kModule);
  REQUIRE_OK(m);
  auto exe = b.compile(**m);
  REQUIRE_OK(exe);
  auto out = (*exe)->run(fn, in);
  REQUIRE_OK(out);
  return std::move(*out);
}

} // namespace

TEST_CASE("cuda on the host device: functions of elementwise ops match the interpreter") {
  cuda::CudaBackend host(cuda::hostDevice());
  for (int64_t batch : {1, 5, 64}) {
    CAPTURE(batch);
    std::vector<Array> in = {filled(DType::F32, {batch, 3}, 0.25, 0.5),
                             filled(DType::F32, {batch, 3}, -1.0, 0.125),
                             filled(DType::I32, {batch, 3}, -7, 1)};
    auto want = runOn(backends::referenceBackend(), "chain", in);
    auto got = runOn(host, "chain", in);
    REQUIRE(got.size() == want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      CAPTURE(r);
      checkSame(got[r], want[r]);
    }
  }
  auto want = runOn(backends::referenceBackend(), "table", {});
  checkSame(runOn(host, "table", {})[0], want[0]);
  std::vector<Array> in = {filled(DType::F32, {4}, 1, 1), filled(DType::F32, {4}, 0.5, 0.25)};
  checkSame(runOn(host, "sgd", in)[0], runOn(backends::referenceBackend(), "sgd", in)[0]);
}

TEST_CASE("cuda: inputs are checked as on every backend") {
  cuda::CudaBackend host(cuda::hostDevice());
  auto m = ir::parseModule(kModule);
  REQUIRE_OK(m);
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto r = (*exe)->run(
      "sgd", std::vector<Array>{filled(DType::F32, {5}, 1, 1), filled(DType::F32, {4}, 1, 1)});
  REQUIRE_FALSE(r);
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  auto want = (*ref)->run(
      "sgd", std::vector<Array>{filled(DType::F32, {5}, 1, 1), filled(DType::F32, {4}, 1, 1)});
  REQUIRE_FALSE(want);
  CHECK(r.diag().str() == want.diag().str());
}

TEST_CASE("cuda: the registered backend is selectable; without a GPU it says so on compile") {
  auto b = backends::findBackend("cuda");
  REQUIRE_OK(b);
  Status here = cuda::backend().available();
  auto m = ir::parseModule(kModule);
  REQUIRE_OK(m);
  auto exe = (*b)->compile(**m);
  CHECK(bool(exe) == bool(here));
  if (!here) {
    MESSAGE("this machine: " << here.diag().message);
    CHECK(exe.diag().message.rfind("no CUDA device: ", 0) == 0);
  }
}

TEST_CASE("cuda: the kernels a module launches are PTX that ptxas accepts") {
  auto m = ir::parseModule(kModule);
  REQUIRE_OK(m);
  auto ptxas = testing::findPtxas();
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    CHECK(ptx->find(".entry chain_0_mul") != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
  if (!ptxas)
    MESSAGE("ptxas not found: the PTX was not assembled");
  CHECK_FALSE(cuda::modulePtx(**m, "sm_75"));
}

} // namespace cuda_CudaBackendTest
