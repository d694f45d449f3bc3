#include "backends/cuda/Driver.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

namespace cuda_DriverTest {

using namespace weft;
using namespace weft::cuda;

TEST_CASE("a machine without the CUDA driver reports 'no CUDA device' and why") {
  auto d = Driver::open("libweft-no-such-driver.so.1");
  REQUIRE_FALSE(d);
  const std::string &m = d.diag().message;
  CHECK(m.rfind("no CUDA device: libweft-no-such-driver.so.1 cannot be opened (", 0) == 0);
  CHECK(m.find("a GPU needs NVIDIA's driver installed") != std::string::npos);
}

TEST_CASE("a library that is not the CUDA driver is refused by the entry point it lacks") {
  // libm opens fine but has no cuInit.
  auto d = Driver::open("libm.so.6");
  REQUIRE_FALSE(d);
  CHECK(d.diag().message == "no CUDA device: libm.so.6 lacks cuInit; the NVIDIA driver is too "
                            "old or not CUDA's");
}

TEST_CASE("Driver::get answers the same every time, device or not") {
  auto a = Driver::get(), b = Driver::get();
  REQUIRE(bool(a) == bool(b));
  if (!a) {
    MESSAGE("this machine: " << a.diag().message);
    CHECK(a.diag().message.rfind("no CUDA device: ", 0) == 0);
    CHECK(a.diag().message == b.diag().message);
  } else {
    CHECK(*a == *b);
    auto info = (*a)->device(0);
    REQUIRE(info);
    CHECK(info->smMajor >= 5);
    auto missing = (*a)->device((*a)->deviceCount());
    REQUIRE_FALSE(missing);
  }
}

} // namespace cuda_DriverTest
