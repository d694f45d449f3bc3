// The CUDA driver as the runtime opens it, on a machine where NVIDIA's driver is installed but
// finds no GPU (a stand-in library, tests/fake_cuda): "no CUDA device" and the driver's reason.
#include "runtime/CudaDriver.h"

#include <doctest/doctest.h>

#include <cstdlib>

namespace runtime_CudaDriverTest {

using namespace weft;
using namespace weft::cuda;

TEST_CASE("a driver that finds no GPU reports 'no CUDA device' with the driver's words") {
  ::unsetenv("WEFT_FAKE_CUDA_INIT");
  auto d = Driver::open(WEFT_FAKE_CUDA);
  REQUIRE_FALSE(d);
  CHECK(d.diag().message == "no CUDA device: cuInit failed: CUDA_ERROR_NO_DEVICE: no "
                            "CUDA-capable device is detected");
}

TEST_CASE("a driver that starts but counts no GPU reports 'no CUDA device'") {
  ::setenv("WEFT_FAKE_CUDA_INIT", "ok", 1);
  auto d = Driver::open(WEFT_FAKE_CUDA);
  ::unsetenv("WEFT_FAKE_CUDA_INIT");
  REQUIRE_FALSE(d);
  CHECK(d.diag().message == "no CUDA device: the driver sees 0 GPUs");
}

} // namespace runtime_CudaDriverTest
