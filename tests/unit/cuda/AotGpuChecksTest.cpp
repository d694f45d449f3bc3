// What GPU code built ahead of time (backends/cuda/AotPlan.h) runs between and after kernels:
// all_reduce through the host (runtime/Collective.h, as the CUDA backend's executables and the
// CPU backend reduce), integer division's check of its status word, alone or inside a fusion,
// and gather's and scatter_add's check of theirs. Each plan runs step by step on the host device
// (tests/unit/cuda/PlanOnHost.h) against the interpreter, and a division by zero or an index out
// of range stops it with the JIT's very words.
#include "backends/Registry.h"
#include "backends/cuda/AotPlan.h"
#include "backends/cuda/CudaBackend.h"
#include "ir/Parser.h"
#include "runtime/Collective.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/DivisionCases.h"
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/PlanOnHost.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace cuda_AotGpuChecksTest {

using namespace weft;
using namespace weft::cuda;
using testing::checkClose;
using testing::inputFor;
using testing::runPlanOnHost;

namespace {

const char *kAllReduce =
    R"(func @f(%x: tensor<B x 5 x f64>) -> (tensor<B x 5 x f64>, tensor<B x 5 x f64>) {
  %s = all_reduce %x {group = 0} : tensor<B x 5 x f64>
  %m = all_reduce %s {group = 0, mean = 1} : tensor<B x 5 x f64>
  %y = add %s, %m : tensor<B x 5 x f64>
  return %y, %m
}
)";

const char *kIndexed =
    R"(func @gather(%t: tensor<1 x 7 x 3 x f32>, %i: tensor<2 x 3 x i32>) -> (tensor<1 x 2 x 3 x 3 x f32>) {
  %g = gather %t, %i {axis = 1} : tensor<1 x 2 x 3 x 3 x f32>
  return %g
}
func @scatter(%t: tensor<11 x 4 x i64>, %j: tensor<3 x i64>, %v: tensor<3 x 4 x i64>) -> (tensor<11 x 4 x i64>) {
  %s = scatter_add %t, %j, %v {axis = 0} : tensor<11 x 4 x i64>
  return %s
}
)";

bool hasStep(const AotPlan &p, AotPlan::Step::Kind kind) {
  return std::any_of(p.steps.begin(), p.steps.end(),
                     [&](const AotPlan::Step &s) { return s.kind == kind; });
}

/// `fn` of `text` through its plan (dims `dims`), which must have a step of kind `expected`, on
/// the host device.
Expected<std::vector<Array>> runPlan(const std::string &text, const std::string &fn,
                                     const ir::DimBindings &dims, const std::vector<Array> &in,
                                     AotPlan::Step::Kind expected) {
  auto m = ir::parseModule(text, "plan.wir");
  WEFT_TRY(m.status());
  const ir::Function &f = *(*m)->function(fn);
  auto plan = aotGpuPlan(f, "sm_90", dims);
  WEFT_TRY(plan.status());
  if (!plan->unavailable.empty())
    return err("no plan: " + plan->unavailable);
  if (!hasStep(*plan, expected)) // (a shard's thread must not throw doctest's REQUIRE)
    return err("the plan lacks the step under test");
  return runPlanOnHost(f, *plan, in, dims);
}

/// The interpreter's results, or its error.
Expected<std::vector<Array>> interpret(const std::string &text, const std::string &fn,
                                       const std::vector<Array> &in) {
  auto m = ir::parseModule(text, "plan.wir");
  WEFT_TRY(m.status());
  auto ref = backends::referenceBackend().compile(**m);
  WEFT_TRY(ref.status());
  return (*ref)->run(fn, in);
}

/// The CUDA backend's own executable's results (the JIT path), or its error.
Expected<std::vector<Array>> jit(const std::string &text, const std::string &fn,
                                 const std::vector<Array> &in) {
  auto m = ir::parseModule(text, "plan.wir");
  WEFT_TRY(m.status());
  CudaBackend host(hostDevice());
  auto exe = host.compile(**m);
  WEFT_TRY(exe.status());
  return (*exe)->run(fn, in);
}

void checkSame(const std::vector<Array> &got, const std::vector<Array> &want) {
  REQUIRE(got.size() == want.size());
  for (size_t r = 0; r < want.size(); ++r) {
    CAPTURE(r);
    checkClose(got[r], want[r], 0);
  }
}

} // namespace

TEST_CASE("GPU code: all_reduce in a world of one is the interpreter's identity") {
  const std::vector<Array> in = {inputFor(DType::F64, {3, 5}, 4)};
  auto got = runPlan(kAllReduce, "f", {{"B", 3}}, in, AotPlan::Step::Kind::AllReduce);
  REQUIRE_OK(got);
  auto want = interpret(kAllReduce, "f", in);
  REQUIRE_OK(want);
  checkSame(*got, *want);
}

TEST_CASE("GPU code: all_reduce sums and averages over the shards of a world") {
  Array x0 = inputFor(DType::F64, {3, 5}, 1), x1 = inputFor(DType::F64, {3, 5}, 2);
  std::vector<Array> results[2];
  Status ran = collective::runShards(2, [&](int shard) -> Status {
    auto out = runPlan(kAllReduce, "f", {{"B", 3}}, {shard == 0 ? x0 : x1},
                       AotPlan::Step::Kind::AllReduce);
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

TEST_CASE("GPU code: integer division, alone and in a fusion, is the interpreter's") {
  for (int64_t n : {1, 300}) {
    CAPTURE(n);
    auto in = testing::divideOperands(n);
    auto got =
        runPlan(testing::kDivide, "divide", {{"N", n}}, in, AotPlan::Step::Kind::DivisionCheck);
    REQUIRE_OK(got);
    auto want = interpret(testing::kDivide, "divide", in);
    REQUIRE_OK(want);
    checkSame(*got, *want);
  }
  for (int64_t b : {1, 70}) {
    CAPTURE(b);
    auto in = testing::fusedOperands(b);
    auto got =
        runPlan(testing::kFusedDivide, "fused", {{"B", b}}, in, AotPlan::Step::Kind::DivisionCheck);
    REQUIRE_OK(got);
    auto want = interpret(testing::kFusedDivide, "fused", in);
    REQUIRE_OK(want);
    checkSame(*got, *want);
  }
}

TEST_CASE("GPU code: a division by zero stops the plan with the JIT's words, naming the op") {
  std::vector<Array> in = testing::divideOperands(300, 201);
  auto got =
      runPlan(testing::kDivide, "divide", {{"N", 300}}, in, AotPlan::Step::Kind::DivisionCheck);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message ==
        "'div' (plan.wir:3:3): integer division by zero at element 201 of i64[300]");
  auto jitted = jit(testing::kDivide, "divide", in);
  REQUIRE_FALSE(jitted);
  CHECK(jitted.diag().message == got.diag().message);

  in = testing::fusedOperands(3);
  in[1].setInt(2, 0); // the first division's broadcast divisor: elements 2, 6, 10
  in[3].setInt(1, 0); // and the second's element 1, which comes later in the body
  got = runPlan(testing::kFusedDivide, "fused", {{"B", 3}}, in, AotPlan::Step::Kind::DivisionCheck);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message ==
        "'div' (plan.wir:5:5): integer division by zero at element 2 of i32[3, 4]");
  jitted = jit(testing::kFusedDivide, "fused", in);
  REQUIRE_FALSE(jitted);
  CHECK(jitted.diag().message == got.diag().message);
}

TEST_CASE("GPU code: an index out of range stops the plan with the JIT's words, naming the op") {
  Array i(DType::I32, {2, 3});
  i.setInt(4, 7); // position [1, 1]; and [1, 2] after it
  i.setInt(5, -1);
  std::vector<Array> in = {inputFor(DType::F32, {1, 7, 3}, 1), i};
  auto got = runPlan(kIndexed, "gather", {}, in, AotPlan::Step::Kind::StatusCheck);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message == "'gather' (plan.wir:2:3): index 7 at position [1, 1] of the "
                              "indices is out of range [0, 7) for axis 1 of f32[1, 7, 3]");
  auto jitted = jit(kIndexed, "gather", in);
  REQUIRE_FALSE(jitted);
  CHECK(jitted.diag().message == got.diag().message);

  Array j(DType::I64, {3});
  j.setInt(1, 11);
  in = {inputFor(DType::I64, {11, 4}, 2), j, inputFor(DType::I64, {3, 4}, 3)};
  got = runPlan(kIndexed, "scatter", {}, in, AotPlan::Step::Kind::StatusCheck);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message == "'scatter_add' (plan.wir:6:3): index 11 at position [1] of the "
                              "indices is out of range [0, 11) for axis 0 of i64[11, 4]");
  jitted = jit(kIndexed, "scatter", in);
  REQUIRE_FALSE(jitted);
  CHECK(jitted.diag().message == got.diag().message);
}

} // namespace cuda_AotGpuChecksTest
