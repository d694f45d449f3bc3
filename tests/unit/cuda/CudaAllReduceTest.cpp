// all_reduce on the CUDA backend's host device: staged through the host into
// runtime/Collective.h, so that in a world of one it is the identity (as the interpreter), in
// several shards of one process (collective::runShards, the same meeting an MPI world's
// processes make) it sums and averages over them, and its errors name the op.
#include "runtime/Collective.h"
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace cuda_CudaAllReduceTest {

using namespace weft;
using testing::checkAgainstInterpreter;
using testing::inputFor;

namespace {

std::string module(const char *t, int64_t group = 0) {
  return fmt::format(
      R"(func @f(%x: tensor<B x 5 x {0}>) -> (tensor<B x 5 x {0}>, tensor<B x 5 x {0}>) {{
  %s = all_reduce %x {{group = {1}}} : tensor<B x 5 x {0}>
  %m = all_reduce %s {{group = 0, mean = 1}} : tensor<B x 5 x {0}>
  %y = add %s, %m : tensor<B x 5 x {0}>
  return %y, %m
}}
)",
      t, group);
}

} // namespace

TEST_CASE("cuda on the host device: all_reduce in a world of one is the interpreter's identity") {
  for (const char *t : {"f32", "f64"})
    for (int64_t b : {1, 3, 77}) {
      CAPTURE(t);
      CAPTURE(b);
      checkAgainstInterpreter(module(t), "f",
                              {inputFor(t[1] == '3' ? DType::F32 : DType::F64, {b, 5}, b)});
    }
}

TEST_CASE("cuda on the host device: all_reduce sums and averages over the shards of a world") {
  auto m = ir::parseModule(module("f64"), "ar.wir");
  REQUIRE_OK(m);
  Array x0 = inputFor(DType::F64, {3, 5}, 1), x1 = inputFor(DType::F64, {3, 5}, 2);
  std::vector<Array> results[2];
  Status ran = collective::runShards(2, [&](int shard) -> Status {
    cuda::CudaBackend host(cuda::hostDevice());
    auto exe = host.compile(**m);
    WEFT_TRY(exe.status());
    auto out = (*exe)->run("f", std::vector<Array>{shard == 0 ? x0 : x1});
    WEFT_TRY(out.status());
    results[shard] = std::move(*out);
    return Status::ok();
  });
  REQUIRE_OK(ran);
  for (int shard = 0; shard < 2; ++shard)
    for (int64_t i = 0; i < 15; ++i) {
      CAPTURE(shard);
      CAPTURE(i);
      const double sum = x0.getDouble(i) + x1.getDouble(i);
      CHECK(results[shard][1].getDouble(i) == sum); // the mean of two equal sums
      CHECK(results[shard][0].getDouble(i) == sum + sum);
    }
}

TEST_CASE("cuda: an all_reduce the collective fails stops the call, naming the op") {
  // Shard 1 never comes: shard 0's all_reduce times out in the collective.
  auto m = ir::parseModule(module("f32"), "ar.wir");
  REQUIRE_OK(m);
  collective::setTimeout(0.2);
  Status ran = collective::runShards(2, [&](int shard) -> Status {
    if (shard == 1)
      return Status::ok();
    cuda::CudaBackend host(cuda::hostDevice());
    auto exe = host.compile(**m);
    WEFT_TRY(exe.status());
    return (*exe)->run("f", std::vector<Array>{inputFor(DType::F32, {2, 5}, 1)}).status();
  });
  collective::setTimeout(300);
  REQUIRE_FALSE(ran);
  CHECK(ran.diag().message.rfind("'all_reduce' (ar.wir:2:3): shard 0 of this process waited", 0) ==
        0);
}

TEST_CASE("cuda: a function with all_reduce is PTX that ptxas accepts for sm_80 and sm_90") {
  auto ptxas = testing::findPtxas();
  auto m = ir::parseModule(module("f32"), "ar.wir");
  REQUIRE_OK(m);
  for (const char *sm : {"sm_80", "sm_90"}) {
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

} // namespace cuda_CudaAllReduceTest
