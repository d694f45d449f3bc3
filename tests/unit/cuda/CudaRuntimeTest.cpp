// The CUDA backend's runtime on the host device, through a device that records what crosses
// to it: one allocation per call, transfers only at the function's boundary, constants and
// weights kept on the device across calls, and driver errors that name the op.
#include "backends/cuda/CudaBackend.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/RecordingDevice.h"

#include <doctest/doctest.h>

namespace cuda_CudaRuntimeTest {

using namespace weft;

namespace {

const char *kRuntimeModule = R"(
func @affine(%w: tensor<4 x f32>, %x: tensor<B x 4 x f32>) -> (tensor<B x 4 x f32>) {
  %three = constant {value = [3.0, 3.0, 3.0, 3.0]} : tensor<4 x f32>
  %w3 = mul %w, %three : tensor<4 x f32>
  %wb = broadcast %w3 {dims = [1]} : tensor<B x 4 x f32>
  %y = add %x, %wb : tensor<B x 4 x f32>
  return %y
}
func @sgd(%w: tensor<4 x f32>, %g: tensor<4 x f32>) -> (tensor<4 x f32>) aliases(0 = %w) {
  %lr = constant {value = [0.5]} : tensor<4 x f32>
  %step = mul %g, %lr : tensor<4 x f32>
  %w2 = sub %w, %step : tensor<4 x f32>
  return %w2
}
)";

Array full(std::vector<int64_t> shape, float v) {
  Array a(DType::F32, std::move(shape));
  for (int64_t i = 0; i < a.numel(); ++i)
    a.setDouble(i, v);
  return a;
}

struct Compiled {
  std::shared_ptr<testing::RecordingDevice> device;
  std::unique_ptr<backends::Executable> exe;
};

Compiled compileRecorded() {
  auto device = std::make_shared<testing::RecordingDevice>(cuda::hostDevice());
  cuda::CudaBackend backend(device);
  auto m = ir::parseModule(kRuntimeModule, "runtime.wir");
  REQUIRE_OK(m);
  auto exe = backend.compile(**m);
  REQUIRE_OK(exe);
  return {device, std::move(*exe)};
}

} // namespace

TEST_CASE("cuda runtime: a call makes one allocation and moves data only at its boundary") {
  Compiled c = compileRecorded();
  std::vector<Array> in = {full({4}, 1), full({2, 4}, 0.5)};
  auto first = c.exe->run("affine", in);
  REQUIRE_OK(first);
  CHECK(first->at(0).getDouble(5) == doctest::Approx(3.5));
  // The first call uploads the constant once (an allocation that outlives the call).
  CHECK(c.device->allocations == 2);
  CHECK(c.device->uploads == 3);
  c.device->reset();
  auto second = c.exe->run("affine", in);
  REQUIRE_OK(second);
  CHECK(c.device->allocations == 1);
  CHECK(c.device->uploads == 2);   // w and x, nothing inside the call
  CHECK(c.device->downloads == 1); // y
  CHECK(second->at(0).getDouble(5) == doctest::Approx(3.5));
}

TEST_CASE("cuda runtime: a weight kept on the device is not uploaded again and is used") {
  Compiled c = compileRecorded();
  REQUIRE_OK(cuda::keepOnDevice(*c.exe, "affine", 0, full({4}, 2)));
  // The input for %w only gives its shape: its zeros are not what the call reads.
  std::vector<Array> in = {full({4}, 0), full({3, 4}, 1)};
  REQUIRE_OK(c.exe->run("affine", in));
  c.device->reset();
  auto out = c.exe->run("affine", in);
  REQUIRE_OK(out);
  CHECK(out->at(0).getDouble(0) == doctest::Approx(7.0));
  CHECK(c.device->uploads == 1); // x only
  CHECK(c.device->uploadedBytes == 3 * 4 * sizeof(float));
}

TEST_CASE("cuda runtime: an in-place update of a kept weight stays on the device") {
  Compiled c = compileRecorded();
  REQUIRE_OK(cuda::keepOnDevice(*c.exe, "sgd", 0, full({4}, 10)));
  std::vector<Array> in = {full({4}, 0), full({4}, 2)};
  for (int step = 0; step < 3; ++step)
    REQUIRE_OK(c.exe->run("sgd", in));
  auto w = cuda::readFromDevice(*c.exe, "sgd", 0);
  REQUIRE_OK(w);
  CHECK(w->getDouble(3) == doctest::Approx(7.0)); // 10 - 3 * 0.5 * 2
}

TEST_CASE("cuda runtime: keeping a parameter checks its function, index and type") {
  Compiled c = compileRecorded();
  auto noFunction = cuda::keepOnDevice(*c.exe, "nope", 0, full({4}, 0));
  REQUIRE_FALSE(noFunction);
  CHECK(noFunction.diag().message == "no function 'nope' was compiled");
  auto symbolic = cuda::keepOnDevice(*c.exe, "affine", 1, full({2, 4}, 0));
  REQUIRE_FALSE(symbolic);
  CHECK(symbolic.diag().message.find("has a symbolic shape") != std::string::npos);
  auto shape = cuda::keepOnDevice(*c.exe, "affine", 0, full({5}, 0));
  REQUIRE_FALSE(shape);
  CHECK(shape.diag().message == "parameter 'w' of @affine is f32[4], not f32[5]");
  auto index = cuda::keepOnDevice(*c.exe, "affine", 2, full({4}, 0));
  REQUIRE_FALSE(index);
  CHECK(index.diag().message == "@affine has 2 parameters; there is no parameter 2");
}

TEST_CASE("cuda runtime: a driver error during a call names the op") {
  Compiled c = compileRecorded();
  std::vector<Array> in = {full({4}, 1), full({2, 4}, 0.5)};
  c.device->failLaunch = 2; // the broadcast's launch (the mul's is first)
  auto launch = c.exe->run("affine", in);
  REQUIRE_FALSE(launch);
  CHECK(launch.diag().message.find("'broadcast' (runtime.wir:5") != std::string::npos);
  CHECK(launch.diag().message.find("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES") != std::string::npos);

  Compiled d = compileRecorded();
  d.device->failCopy = 1; // the constant's copy into the call's allocation
  auto copy = d.exe->run("affine", in);
  REQUIRE_FALSE(copy);
  CHECK(copy.diag().message.rfind("'constant' (runtime.wir:3", 0) == 0);
  CHECK(copy.diag().message.find("cuMemcpyDtoDAsync failed") != std::string::npos);
}

} // namespace cuda_CudaRuntimeTest
