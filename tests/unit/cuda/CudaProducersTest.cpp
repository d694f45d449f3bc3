// iota, random_uniform, random_normal and scatter_add on the CUDA backend's host device against
// the reference interpreter (symbolic dims, sizes past a block's edge, both index dtypes), their
// faults as the interpreter words them, and their PTX through ptxas for sm_80 and sm_90.
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>

#include <cstring>

namespace cuda_CudaProducersTest {

using namespace weft;
using testing::checkAgainstInterpreter;
using testing::inputFor;

namespace {

const char *kProducers = R"(
func @iotas(%x: tensor<B x 3 x f32>) -> (tensor<B x 3 x 7 x i64>, tensor<B x 300 x i32>, tensor<5 x B x f32>, tensor<B x 2 x f64>) {
  %a = iota {axis = 2} : tensor<B x 3 x 7 x i64>
  %b = iota {axis = 1} : tensor<B x 300 x i32>
  %c = iota {axis = 0} : tensor<5 x B x f32>
  %d = iota {axis = 0} : tensor<B x 2 x f64>
  return %a, %b, %c, %d
}
func @randoms(%seed: tensor<i64>, %x: tensor<N x f32>) -> (tensor<N x 33 x f32>, tensor<N x 300 x f64>, tensor<N x 33 x f32>, tensor<300 x N x f64>) {
  %u = random_uniform %seed : tensor<N x 33 x f32>
  %v = random_uniform %seed : tensor<N x 300 x f64>
  %n = random_normal %seed : tensor<N x 33 x f32>
  %m = random_normal %seed : tensor<300 x N x f64>
  return %u, %v, %n, %m
}
)";

const char *kScatters = R"(
func @scatters(%base: tensor<B x 7 x 3 x f32>, %i: tensor<2 x N x i32>, %u: tensor<B x 2 x N x 3 x f32>, %e: tensor<11 x 4 x i64>, %j: tensor<N x i64>, %v: tensor<N x 4 x i64>) -> (tensor<B x 7 x 3 x f32>, tensor<11 x 4 x i64>) {
  %s = scatter_add %base, %i, %u {axis = 1} : tensor<B x 7 x 3 x f32>
  %t = scatter_add %e, %j, %v {axis = 0} : tensor<11 x 4 x i64>
  return %s, %t
}
func @scatter_f64(%base: tensor<300 x f64>, %i: tensor<N x i64>, %u: tensor<N x f64>) -> (tensor<300 x f64>) {
  %s = scatter_add %base, %i, %u {axis = 0} : tensor<300 x f64>
  return %s
}
)";

Array scalarSeed(int64_t seed) {
  Array s(DType::I64, {});
  s.setInt(0, seed);
  return s;
}

} // namespace

TEST_CASE("cuda on the host device: iota along every axis matches the interpreter") {
  for (int64_t b : {1, 3})
    checkAgainstInterpreter(kProducers, "iotas", {inputFor(DType::F32, {b, 3}, 1)});
}

TEST_CASE("cuda on the host device: random numbers are the interpreter's generator's") {
  for (int64_t seed : {0, 5, -77}) {
    CAPTURE(seed);
    // Uniform numbers are bit for bit; normal ones agree to the accuracy of log and cos in
    // double, rounded once (for f32, so almost always exactly).
    checkAgainstInterpreter(kProducers, "randoms", {scalarSeed(seed), inputFor(DType::F32, {2}, 1)},
                            1e-13);
  }
  auto m = ir::parseModule(kProducers);
  REQUIRE_OK(m);
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  std::vector<Array> in = {scalarSeed(9), inputFor(DType::F32, {3}, 1)};
  auto want = (*ref)->run("randoms", in);
  REQUIRE_OK(want);
  auto got = (*exe)->run("randoms", in);
  REQUIRE_OK(got);
  for (size_t r : {size_t(0), size_t(1)}) // uniform: every bit
    CHECK(std::memcmp((*got)[r].data(), (*want)[r].data(), (*want)[r].nbytes()) == 0);
}

TEST_CASE("cuda on the host device: scatter_add sums in the interpreter's order") {
  for (int64_t n : {1, 5}) {
    CAPTURE(n);
    Array i(DType::I32, {2, n}), j(DType::I64, {n});
    for (int64_t k = 0; k < i.numel(); ++k)
      i.setInt(k, (k * 5 + 3) % 7);
    for (int64_t k = 0; k < n; ++k)
      j.setInt(k, (k * 2 + 1) % 3); // repeats: several updates to one row
    checkAgainstInterpreter(kScatters, "scatters",
                            {inputFor(DType::F32, {2, 7, 3}, 1), i,
                             inputFor(DType::F32, {2, 2, n, 3}, 2),
                             inputFor(DType::I64, {11, 4}, 3), j, inputFor(DType::I64, {n, 4}, 4)});
  }
  // Many updates of mixed magnitudes into few elements: a float sum in another order would
  // round differently.
  const int64_t n = 700;
  Array i(DType::I64, {n}), u(DType::F64, {n});
  for (int64_t k = 0; k < n; ++k) {
    i.setInt(k, (k * 7) % 3);
    u.setDouble(k, std::ldexp(1.0 + k * 0.1234567, static_cast<int>(k % 60) - 30));
  }
  checkAgainstInterpreter(kScatters, "scatter_f64", {inputFor(DType::F64, {300}, 5), i, u});
}

TEST_CASE("cuda: a scatter_add index out of range stops the call as on the interpreter") {
  auto m = ir::parseModule(kScatters, "scatter.wir");
  REQUIRE_OK(m);
  Array i(DType::I32, {2, 3}), j(DType::I64, {3});
  i.setInt(4, 7); // position [1, 1]; and [1, 2] after it
  i.setInt(5, -1);
  std::vector<Array> in = {
      inputFor(DType::F32, {1, 7, 3}, 1), i, inputFor(DType::F32, {1, 2, 3, 3}, 2),
      inputFor(DType::I64, {11, 4}, 3),   j, inputFor(DType::I64, {3, 4}, 4)};
  const std::string message = "index 7 at position [1, 1] of the indices is out of range [0, 7) "
                              "for axis 1 of f32[1, 7, 3]";
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto got = (*exe)->run("scatters", in);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message == "'scatter_add' (scatter.wir:3:3): " + message);
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  auto want = (*ref)->run("scatters", in);
  REQUIRE_FALSE(want);
  CHECK(want.diag().message.find(message) != std::string::npos);
}

TEST_CASE("cuda: the iota, random and scatter_add kernels are PTX that ptxas accepts") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  auto m = ir::parseModule(std::string(kProducers) + kScatters);
  REQUIRE_OK(m);
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    for (const char *kernel : {"_iota(", "_random_uniform(", "_random_normal(", "_scatter_add("})
      CHECK(ptx->find(kernel) != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

} // namespace cuda_CudaProducersTest
