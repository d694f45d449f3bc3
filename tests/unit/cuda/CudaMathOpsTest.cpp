// sin, cos, erf and pow as ops of a function on the CUDA backend's host device, against the
// reference interpreter: odd sizes over a symbolic dim, f32 and f64, and arguments that are
// huge, tiny, negative, NaN and infinite. Results agree within the ulp bounds of Math.h's
// functions (1 for sin and cos, 2 for erf and pow in f64; f32 rounds a double once: 1).
#include "backends/Registry.h"
#include "backends/cuda/CudaBackend.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <random>

namespace cuda_CudaMathOpsTest {

using namespace weft;

namespace {

std::string mathModule(const char *t) {
  return fmt::format(
      R"(func @math(%x: tensor<N x {0}>, %y: tensor<N x {0}>) -> (tensor<N x {0}>, tensor<N x {0}>, tensor<N x {0}>, tensor<N x {0}>) {{
  %s = sin %x : tensor<N x {0}>
  %c = cos %x : tensor<N x {0}>
  %e = erf %x : tensor<N x {0}>
  %p = pow %x, %y : tensor<N x {0}>
  return %s, %c, %e, %p
}}
)",
      t);
}

/// Specials first, then ordinary and huge values of both signs.
std::vector<Array> inputs(DType t, int64_t n) {
  const double x[] = {0.0,   -0.0, INFINITY, -INFINITY, NAN,  1e-310, -3.0, 2.0,  0.5, -0.5,
                      1e300, 1e30, -1e22,    1.0,       -1.0, 6.0,    -2.5, 1e-8, 3.5, 710};
  const double y[] = {0.0, 3.0,  0.5, -1.0, 2.0,  0.5, 3.0,      -2.0, INFINITY, -INFINITY,
                      0.5, -0.5, 2.0, NAN,  2.25, 1.5, -1.0e300, 1e8,  -3.0,     1.0};
  std::mt19937_64 gen(static_cast<uint64_t>(n));
  std::uniform_real_distribution<double> uni(-12, 12), mag(-8, 30);
  Array a(t, {n}), b(t, {n});
  for (int64_t i = 0; i < n; ++i) {
    const bool special = i < int64_t(std::size(x));
    a.setDouble(i, special ? x[i] : i % 3 ? uni(gen) : std::pow(10.0, mag(gen)) * (i % 2 ? -1 : 1));
    b.setDouble(i, special ? y[i] : uni(gen) / 4);
  }
  return {a, b};
}

int64_t ulps(double got, double want, DType t) {
  if (std::isnan(got) || std::isnan(want))
    return std::isnan(got) && std::isnan(want) ? 0 : 1 << 30;
  if (got == want)
    return std::signbit(got) == std::signbit(want) ? 0 : 1 << 30;
  if (std::signbit(got) != std::signbit(want))
    return 1 << 30;
  int64_t a = t == DType::F32 ? std::bit_cast<int32_t>(float(got)) : std::bit_cast<int64_t>(got);
  int64_t b = t == DType::F32 ? std::bit_cast<int32_t>(float(want)) : std::bit_cast<int64_t>(want);
  return std::abs(a - b);
}

} // namespace

TEST_CASE("cuda on the host device: sin, cos, erf and pow match the interpreter to their ulps") {
  for (DType t : {DType::F32, DType::F64}) {
    auto m = ir::parseModule(mathModule(std::string(dtypeName(t)).c_str()), "math.wir");
    REQUIRE_OK(m);
    auto ref = backends::referenceBackend().compile(**m);
    REQUIRE_OK(ref);
    cuda::CudaBackend host(cuda::hostDevice());
    auto exe = host.compile(**m);
    REQUIRE_OK(exe);
    for (int64_t n : {20, 37, 301}) {
      CAPTURE(dtypeName(t));
      CAPTURE(n);
      std::vector<Array> in = inputs(t, n);
      auto want = (*ref)->run("math", in);
      REQUIRE_OK(want);
      auto got = (*exe)->run("math", in);
      REQUIRE_OK(got);
      for (size_t r = 0; r < 4; ++r) {
        CAPTURE(r);
        const int64_t bound = t == DType::F32 || r < 2 ? 1 : 2;
        for (int64_t i = 0; i < n; ++i) {
          CAPTURE(i);
          CAPTURE(in[0].getDouble(i));
          CAPTURE(in[1].getDouble(i));
          CHECK(ulps((*got)[r].getDouble(i), (*want)[r].getDouble(i), t) <= bound);
        }
      }
    }
  }
}

TEST_CASE("cuda: sin, cos, erf and pow kernels are PTX that ptxas accepts for sm_80 and sm_90") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  for (const char *t : {"f32", "f64"}) {
    auto m = ir::parseModule(mathModule(t), "math.wir");
    REQUIRE_OK(m);
    for (const char *sm : {"sm_80", "sm_90"}) {
      CAPTURE(sm);
      auto ptx = cuda::modulePtx(**m, sm);
      REQUIRE_OK(ptx);
      if (ptxas)
        CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
    }
  }
}

} // namespace cuda_CudaMathOpsTest
