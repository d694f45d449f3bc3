// scan and while on the CUDA backend's host device against the reference interpreter: the host
// runs the trips and launches the body's kernels; carries, emits, reversed and masked scans
// (i32 and i64 lengths), swapped carries, emits of the old carry, a scan nested in a scan over
// its sequence step, symbolic T and B (T = 0 too), while loops whose examples finish at
// different trips, and the loops' kernels through ptxas for sm_80 and sm_90.
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/PlanOnHost.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>

namespace cuda_CudaLoopsTest {

using namespace weft;
using testing::checkAgainstInterpreter;
using testing::inputFor;

namespace {

const char *kScans = R"(
func @rnn(%xs: tensor<T x B x 3 x f32>, %h0: tensor<B x 4 x f32>, %w: tensor<3 x 4 x f32>, %u: tensor<4 x 4 x f32>) -> (tensor<B x 4 x f32>, tensor<T x B x 4 x f32>) {
  %hT, %hs = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<B x 4 x f32>, %x: tensor<B x 3 x f32>):
    %a = matmul %x, %w : tensor<B x 4 x f32>
    %b = matmul %h, %u : tensor<B x 4 x f32>
    %s = add %a, %b : tensor<B x 4 x f32>
    %h2 = tanh %s : tensor<B x 4 x f32>
    yield %h2, %h2
  } : tensor<B x 4 x f32>, tensor<T x B x 4 x f32>
  return %hT, %hs
}
func @swap_reverse(%xs: tensor<T x B x 2 x f32>, %ys: tensor<T x B x 2 x f32>, %a0: tensor<B x 2 x f32>, %b0: tensor<B x 2 x f32>) -> (tensor<B x 2 x f32>, tensor<B x 2 x f32>, tensor<T x B x 2 x f32>, tensor<T x B x 2 x f32>) {
  %aT, %bT, %old, %sum = scan carry(%a0, %b0) over(%xs, %ys) {reverse = 1} {
  ^body(%a: tensor<B x 2 x f32>, %b: tensor<B x 2 x f32>, %x: tensor<B x 2 x f32>, %y: tensor<B x 2 x f32>):
    %xy = mul %x, %y : tensor<B x 2 x f32>
    %s = add %a, %xy : tensor<B x 2 x f32>
    yield %b, %s, %a, %s
  } : tensor<B x 2 x f32>, tensor<B x 2 x f32>, tensor<T x B x 2 x f32>, tensor<T x B x 2 x f32>
  return %aT, %bT, %old, %sum
}
func @masked(%xs: tensor<T x B x 3 x f32>, %h0: tensor<B x 3 x f32>, %len: tensor<B x i32>, %len64: tensor<B x i64>) -> (tensor<B x 3 x f32>, tensor<T x B x 3 x f32>, tensor<B x 3 x f32>, tensor<T x B x 3 x f32>) {
  %hT, %hs = scan carry(%h0) over(%xs) lengths(%len) {
  ^body(%h: tensor<B x 3 x f32>, %x: tensor<B x 3 x f32>):
    %h2 = add %h, %x : tensor<B x 3 x f32>
    yield %h2, %h2
  } : tensor<B x 3 x f32>, tensor<T x B x 3 x f32>
  %gT, %gs = scan carry(%h0) over(%xs) lengths(%len64) {reverse = 1} {
  ^body(%g: tensor<B x 3 x f32>, %v: tensor<B x 3 x f32>):
    %g2 = mul %g, %v : tensor<B x 3 x f32>
    %g3 = add %g2, %v : tensor<B x 3 x f32>
    yield %g3, %g
  } : tensor<B x 3 x f32>, tensor<T x B x 3 x f32>
  return %hT, %hs, %gT, %gs
}
func @nested(%xss: tensor<T x 3 x B x f32>, %c0: tensor<B x f32>) -> (tensor<B x f32>, tensor<T x B x f32>) {
  %cT, %totals = scan carry(%c0) over(%xss) {
  ^body(%c: tensor<B x f32>, %xs: tensor<3 x B x f32>):
    %z = constant {value = [0.0]} : tensor<B x f32>
    %s, %parts = scan carry(%z) over(%xs) {
    ^body(%acc: tensor<B x f32>, %x: tensor<B x f32>):
      %acc2 = add %acc, %x : tensor<B x f32>
      yield %acc2, %acc2
    } : tensor<B x f32>, tensor<3 x B x f32>
    %c2 = add %c, %s : tensor<B x f32>
    yield %c2, %s
  } : tensor<B x f32>, tensor<T x B x f32>
  return %cT, %totals
}
)";

const char *kWhiles = R"(
func @count(%f0: tensor<B x i1>, %n0: tensor<B x i64>, %limit: tensor<B x i64>) -> (tensor<B x i1>, tensor<B x i64>, tensor<6 x B x i64>, tensor<i64>) {
  %fin, %n, %ns, %trips = while finished(%f0) carry(%n0) {max_trips = 6} {
  ^body(%k: tensor<B x i64>):
    %one = constant {value = [1]} : tensor<B x i64>
    %k2 = add %k, %one : tensor<B x i64>
    %done = ge %k2, %limit : tensor<B x i1>
    yield %done, %k2, %k2
  } : tensor<B x i1>, tensor<B x i64>, tensor<6 x B x i64>, tensor<i64>
  return %fin, %n, %ns, %trips
}
func @decode(%f0: tensor<B x i1>, %h0: tensor<B x 2 x f32>, %w: tensor<2 x 2 x f32>) -> (tensor<B x i1>, tensor<B x 2 x f32>, tensor<4 x B x 2 x f32>, tensor<4 x B x i64>, tensor<i64>) {
  %fin, %h, %hs, %picks, %trips = while finished(%f0) carry(%h0) {max_trips = 4} {
  ^body(%x: tensor<B x 2 x f32>):
    %y = matmul %x, %w : tensor<B x 2 x f32>
    %z = tanh %y : tensor<B x 2 x f32>
    %p = argmax %z {axis = 1} : tensor<B x i64>
    %one = constant {value = [1]} : tensor<B x i64>
    %done = eq %p, %one : tensor<B x i1>
    yield %done, %z, %z, %p
  } : tensor<B x i1>, tensor<B x 2 x f32>, tensor<4 x B x 2 x f32>, tensor<4 x B x i64>, tensor<i64>
  return %fin, %h, %hs, %picks, %trips
}
)";

Array flags(std::vector<int> values) {
  Array a(DType::I1, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i)
    a.setInt(static_cast<int64_t>(i), values[i]);
  return a;
}

/// `fn` of `text` through the GPU plan built ahead of time for `dims` (its loops unrolled), run
/// on the host device, against the interpreter.
void checkPlanAgainstInterpreter(const std::string &text, const std::string &fn,
                                 const std::vector<Array> &inputs, const ir::DimBindings &dims,
                                 double relative = 0) {
  auto m = ir::parseModule(text, "loops.wir");
  REQUIRE_OK(m);
  const ir::Function &f = *(*m)->function(fn);
  auto plan = cuda::aotGpuPlan(f, "sm_90", dims);
  REQUIRE_OK(plan);
  REQUIRE(plan->unavailable == "");
  auto got = testing::runPlanOnHost(f, *plan, inputs, dims);
  REQUIRE_OK(got);
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  auto want = (*ref)->run(fn, inputs);
  REQUIRE_OK(want);
  REQUIRE(got->size() == want->size());
  for (size_t r = 0; r < want->size(); ++r) {
    CAPTURE(r);
    testing::checkClose((*got)[r], (*want)[r], relative);
  }
}

Array ints(DType t, std::vector<int64_t> values) {
  Array a(t, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i)
    a.setInt(static_cast<int64_t>(i), values[i]);
  return a;
}

} // namespace

TEST_CASE("cuda on the host device: a scan launches its body per step, as the interpreter runs") {
  for (auto [t, b] : {std::pair<int64_t, int64_t>{5, 3}, {1, 1}, {0, 2}}) {
    CAPTURE(t);
    CAPTURE(b);
    checkAgainstInterpreter(kScans, "rnn",
                            {inputFor(DType::F32, {t, b, 3}, 1), inputFor(DType::F32, {b, 4}, 2),
                             inputFor(DType::F32, {3, 4}, 3), inputFor(DType::F32, {4, 4}, 4)},
                            1e-6);
    checkAgainstInterpreter(kScans, "swap_reverse",
                            {inputFor(DType::F32, {t, b, 2}, 1), inputFor(DType::F32, {t, b, 2}, 2),
                             inputFor(DType::F32, {b, 2}, 3), inputFor(DType::F32, {b, 2}, 4)});
    checkAgainstInterpreter(kScans, "nested",
                            {inputFor(DType::F32, {t, 3, b}, 5), inputFor(DType::F32, {b}, 6)});
  }
}

TEST_CASE("cuda on the host device: a scan's lengths keep carries and zero emits past them") {
  // Lengths 0, T and in between; forward (i32) and reverse (i64).
  checkAgainstInterpreter(kScans, "masked",
                          {inputFor(DType::F32, {4, 3, 3}, 1), inputFor(DType::F32, {3, 3}, 2),
                           ints(DType::I32, {2, 0, 4}), ints(DType::I64, {4, 1, 0})});
}

TEST_CASE("cuda: a scan length outside [0, T] stops the call as on the interpreter") {
  auto m = ir::parseModule(kScans, "scan.wir");
  REQUIRE_OK(m);
  std::vector<Array> in = {inputFor(DType::F32, {4, 2, 3}, 1), inputFor(DType::F32, {2, 3}, 2),
                           ints(DType::I32, {2, 5}), ints(DType::I64, {1, 1})};
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto got = (*exe)->run("masked", in);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message == "'scan' (scan.wir:23:3): length 5 of example 1 is outside [0, 4]");
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  auto want = (*ref)->run("masked", in);
  REQUIRE_FALSE(want);
  CHECK(want.diag().message.find("length 5 of example 1 is outside [0, 4]") != std::string::npos);
}

TEST_CASE("cuda on the host device: a while runs until every example is finished") {
  // Examples finish after 1, 3 and 2 trips, one is finished from the start, one never within
  // max_trips; and a batch finished before the first trip runs none.
  checkAgainstInterpreter(kWhiles, "count",
                          {flags({0, 0, 0, 1, 0}), ints(DType::I64, {0, 0, 1, 0, 0}),
                           ints(DType::I64, {1, 3, 3, 9, 99})});
  checkAgainstInterpreter(kWhiles, "count",
                          {flags({1, 1}), ints(DType::I64, {0, 0}), ints(DType::I64, {1, 1})});
  Array w(DType::F32, {2, 2});
  for (int64_t i = 0; i < 4; ++i)
    w.setDouble(i, std::vector<double>{0.5, -1.0, 1.25, 0.75}[static_cast<size_t>(i)]);
  checkAgainstInterpreter(kWhiles, "decode", {flags({0, 0, 0}), inputFor(DType::F32, {3, 2}, 4), w},
                          1e-6);
}

TEST_CASE("GPU code built ahead of time: scans unrolled give the interpreter's results") {
  for (auto [t, b] : {std::pair<int64_t, int64_t>{5, 3}, {1, 1}, {0, 2}}) {
    CAPTURE(t);
    CAPTURE(b);
    const ir::DimBindings dims = {{"T", t}, {"B", b}};
    checkPlanAgainstInterpreter(kScans, "rnn",
                                {inputFor(DType::F32, {t, b, 3}, 1),
                                 inputFor(DType::F32, {b, 4}, 2), inputFor(DType::F32, {3, 4}, 3),
                                 inputFor(DType::F32, {4, 4}, 4)},
                                dims, 1e-6);
    checkPlanAgainstInterpreter(kScans, "swap_reverse",
                                {inputFor(DType::F32, {t, b, 2}, 1),
                                 inputFor(DType::F32, {t, b, 2}, 2),
                                 inputFor(DType::F32, {b, 2}, 3), inputFor(DType::F32, {b, 2}, 4)},
                                dims);
    checkPlanAgainstInterpreter(
        kScans, "nested", {inputFor(DType::F32, {t, 3, b}, 5), inputFor(DType::F32, {b}, 6)}, dims);
  }
  checkPlanAgainstInterpreter(kScans, "masked",
                              {inputFor(DType::F32, {4, 3, 3}, 1), inputFor(DType::F32, {3, 3}, 2),
                               ints(DType::I32, {2, 0, 4}), ints(DType::I64, {4, 1, 0})},
                              {{"T", 4}, {"B", 3}});
}

TEST_CASE("GPU code built ahead of time: a scan length outside [0, T] stops the call") {
  auto m = ir::parseModule(kScans, "scan.wir");
  REQUIRE_OK(m);
  const ir::Function &f = *(*m)->function("masked");
  const ir::DimBindings dims = {{"T", 4}, {"B", 2}};
  auto plan = cuda::aotGpuPlan(f, "sm_90", dims);
  REQUIRE_OK(plan);
  for (auto [len, len64, message] :
       {std::tuple{std::vector<int64_t>{2, 5}, std::vector<int64_t>{1, 1},
                   "'scan' (scan.wir:23:3): length 5 of example 1 is outside [0, 4]"},
        {std::vector<int64_t>{2, 2}, std::vector<int64_t>{-1, 1},
         "'scan' (scan.wir:28:3): length -1 of example 0 is outside [0, 4]"}}) {
    auto got =
        testing::runPlanOnHost(f, *plan,
                               {inputFor(DType::F32, {4, 2, 3}, 1), inputFor(DType::F32, {2, 3}, 2),
                                ints(DType::I32, len), ints(DType::I64, len64)},
                               dims);
    REQUIRE_FALSE(got);
    CHECK(got.diag().message == message);
  }
}

TEST_CASE("GPU code built ahead of time: a while's trips stop when every example is finished") {
  const ir::DimBindings five = {{"B", 5}}, two = {{"B", 2}}, three = {{"B", 3}};
  checkPlanAgainstInterpreter(kWhiles, "count",
                              {flags({0, 0, 0, 1, 0}), ints(DType::I64, {0, 0, 1, 0, 0}),
                               ints(DType::I64, {1, 3, 3, 9, 99})},
                              five);
  checkPlanAgainstInterpreter(
      kWhiles, "count", {flags({0, 0}), ints(DType::I64, {0, 0}), ints(DType::I64, {2, 3})}, two);
  checkPlanAgainstInterpreter(
      kWhiles, "count", {flags({1, 1}), ints(DType::I64, {0, 0}), ints(DType::I64, {1, 1})}, two);
  Array w(DType::F32, {2, 2});
  for (int64_t i = 0; i < 4; ++i)
    w.setDouble(i, std::vector<double>{0.5, -1.0, 1.25, 0.75}[static_cast<size_t>(i)]);
  checkPlanAgainstInterpreter(kWhiles, "decode",
                              {flags({0, 0, 0}), inputFor(DType::F32, {3, 2}, 4), w}, three, 1e-6);
}

TEST_CASE("cuda: the loops' copy kernels are PTX that ptxas accepts") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  auto m = ir::parseModule(std::string(kScans) + kWhiles);
  REQUIRE_OK(m);
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    for (const char *kernel :
         {"_scan_carry0(", "_scan_emit1(", "_scan_stage0(", "_while_finished(", "_while_zero0("})
      CHECK(ptx->find(kernel) != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

TEST_CASE("cuda: a while whose done flags are an old carry is refused, not run wrong") {
  // The carries are written before `done` is or-ed into finished, so this form would read the
  // new carry: the backend says so instead.
  auto m = ir::parseModule(R"(
func @f(%f0: tensor<2 x i1>, %g0: tensor<2 x i1>) -> (tensor<2 x i1>) {
  %fin, %g, %trips = while finished(%f0) carry(%g0) {max_trips = 3} {
  ^body(%g1: tensor<2 x i1>):
    %n = not %g1 : tensor<2 x i1>
    yield %g1, %n
  } : tensor<2 x i1>, tensor<2 x i1>, tensor<i64>
  return %fin
}
)",
                           "done.wir");
  REQUIRE_OK(m);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_FALSE(exe);
  CHECK(exe.diag().message.find("a while whose `done` flags are a carry") != std::string::npos);
  CHECK(exe.diag().loc.line == 3);
}

} // namespace cuda_CudaLoopsTest
