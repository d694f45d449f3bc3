// The runtime's loader of GPU code (runtime/CudaAot.h) on a stand-in driver whose one GPU's
// memory is the host's (tests/fake_cuda, WEFT_FAKE_CUDA_INIT=host): what a call moves and
// when. A kept parameter is uploaded once and read on the device by every call; a declared
// in-place update of it stays there (no download), and reading it back gives the new value.
// An all_reduce goes down, through the collective and up again; a division's status word is
// read back after its kernel and stops the call with the op's error.
#include "runtime/CudaAot.h"
#include "runtime/CudaDriver.h"
#include "runtime/DType.h"
#include "tests/unit/runtime/FakeCuda.h"

#include <doctest/doctest.h>

#include <array>
#include <limits>
#include <memory>
#include <string>

namespace runtime_CudaAotLoaderTest {

using namespace weft;
using namespace weft::cuda;
using weft::testing::Moves;
using weft::testing::movesSoFar;
using weft::testing::since;

namespace {

/// @step(%w, %x) -> (%w2 = %x + nothing, aliases(0 = %w)): its plan copies x into the result,
/// which updates w in place. No kernel, so the stand-in runs it for real.
AotPlan stepPlan() {
  AotPlan p;
  p.function = "step";
  p.sm = "sm_90";
  p.ptx = ".version 8.5\n.target sm_90\n";
  p.arenaBytes = 48;
  p.params = {{0, 16}, {16, 16}};
  p.results = {{32, 16}};
  AotPlan::Step copy;
  copy.kind = AotPlan::Step::Kind::Copy;
  copy.dst = 32;
  copy.src = 16;
  copy.bytes = 16;
  copy.op = "'copy' (step.wir:2:3)";
  p.steps = {copy};
  return p;
}

} // namespace

TEST_CASE("a kept parameter is uploaded once and its in-place update stays on the device") {
  testing::HostGpu gpu;

  const std::string code = encodeAotPlan(stepPlan());
  const char *names[] = {"w", "x"};
  const int32_t aliasResults[] = {0}, aliasParams[] = {0};
  weft_aot_function fn{};
  fn.name = "step";
  fn.n_params = 2;
  fn.param_names = names;
  fn.n_results = 1;
  fn.n_aliases = 1;
  fn.alias_results = aliasResults;
  fn.alias_params = aliasParams;
  fn.gpu_code = reinterpret_cast<const unsigned char *>(code.data());
  auto f = AotGpuFunction::load(fn, 0, gpu.driver());
  REQUIRE(f);
  CHECK((*f)->device() == "weft fake GPU (sm_90)");

  const std::array<float, 4> w0 = {1, 2, 3, 4}, x1 = {5, 6, 7, 8}, x2 = {-1, -2, -3, -4};
  std::array<float, 4> out{};
  // Not kept: both inputs go up and the result comes down.
  Moves before = movesSoFar();
  const void *in[] = {w0.data(), x1.data()};
  void *outs[] = {out.data()};
  REQUIRE((*f)->call(in, outs));
  CHECK(since(before) == Moves{2, 1, 1}); // and the plan's copy of x into the result
  CHECK(out == x1);
  // A result with nowhere to go is an error, not a write through null.
  outs[0] = nullptr;
  auto nowhere = (*f)->call(in, outs);
  REQUIRE_FALSE(nowhere);
  CHECK(nowhere.diag().message ==
        "result 0 of @step has nowhere to go (null, and not an update of a kept parameter)");

  // Kept: w is uploaded once; calls copy it on the device, update it there, download nothing.
  before = movesSoFar();
  REQUIRE((*f)->keepOnDevice(0, w0.data()));
  CHECK(since(before) == Moves{1, 0, 0});
  before = movesSoFar();
  in[0] = nullptr;
  REQUIRE((*f)->call(in, outs));
  CHECK(since(before) == Moves{1, 0, 3}); // x up; w in, x to the result, the result to w
  REQUIRE((*f)->readFromDevice(0, out.data()));
  CHECK(out == x1);
  in[1] = x2.data();
  REQUIRE((*f)->call(in, outs));
  REQUIRE((*f)->readFromDevice(0, out.data()));
  CHECK(out == x2);

  auto unkept = (*f)->readFromDevice(1, out.data());
  REQUIRE_FALSE(unkept);
  CHECK(unkept.diag().message == "parameter 1 of @step is not kept on the device");
  in[1] = nullptr;
  auto missing = (*f)->call(in, outs);
  REQUIRE_FALSE(missing);
  CHECK(missing.diag().message == "input 1 of @step is missing (null, and not kept on the device)");
  auto beyond = (*f)->keepOnDevice(2, w0.data());
  REQUIRE_FALSE(beyond);
  CHECK(beyond.diag().message == "@step has 2 parameters; it cannot keep parameter 2");
  f->reset();
}

TEST_CASE("the loader runs all_reduce through the host and stops at a division's status word") {
  testing::HostGpu gpu;

  // @f(%x: 4 x f32) -> (all_reduce mean of %x): in a world of one, %x itself. Then the status
  // word of a division (at 32), set by a constant as a kernel would have lowered it.
  auto plan = [](int64_t word) {
    AotPlan p;
    p.function = "f";
    p.sm = "sm_90";
    p.ptx = ".version 8.5\n.target sm_90\n";
    p.arenaBytes = 40;
    p.params = {{0, 16}};
    p.results = {{16, 16}};
    AotPlan::Step reduce;
    reduce.kind = AotPlan::Step::Kind::AllReduce;
    reduce.src = 0;
    reduce.dst = 16;
    reduce.bytes = 16;
    reduce.scalars = {static_cast<int64_t>(DType::F32), 0, 1};
    reduce.op = "'all_reduce' (f.wir:2:3)";
    AotPlan::Step status;
    status.kind = AotPlan::Step::Kind::Constant;
    status.dst = 32;
    status.data.assign(reinterpret_cast<const char *>(&word), sizeof word);
    AotPlan::Step check;
    check.kind = AotPlan::Step::Kind::DivisionCheck;
    check.src = 32;
    check.data = "i32[4]";
    check.op = "'div' (f.wir:3:3)";
    p.steps = {reduce, status, check};
    return encodeAotPlan(p);
  };
  const std::array<float, 4> x = {1.5f, -2, 3, 0.25f};
  std::array<float, 4> out{};
  const void *in[] = {x.data()};
  void *outs[] = {out.data()};
  for (int64_t word : {std::numeric_limits<int64_t>::max(), int64_t(3)}) {
    CAPTURE(word);
    const std::string code = plan(word);
    weft_aot_function fn{};
    fn.name = "f";
    fn.n_params = 1;
    fn.n_results = 1;
    fn.gpu_code = reinterpret_cast<const unsigned char *>(code.data());
    auto f = AotGpuFunction::load(fn, 0, gpu.driver());
    REQUIRE(f);
    out = {};
    Moves before = movesSoFar();
    Status ran = (*f)->call(in, outs);
    if (word == std::numeric_limits<int64_t>::max()) {
      REQUIRE(ran);
      CHECK(out == x);
      // x up, its reduction down and up again, the word down, the result down.
      CHECK(since(before) == Moves{2, 3, 1});
    } else {
      REQUIRE_FALSE(ran);
      CHECK(ran.diag().message ==
            "'div' (f.wir:3:3): integer division by zero at element 3 of i32[4]");
    }
  }
}

} // namespace runtime_CudaAotLoaderTest
