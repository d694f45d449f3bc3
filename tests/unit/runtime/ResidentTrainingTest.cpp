// A training step on the GPU that keeps its weights and optimizer state there between steps
// (runtime/train/AotDevice.h's aotStepOn), run by the Trainer on the stand-in driver's GPU
// (tests/unit/runtime/FakeCuda.h): it trains to the same values, to the bit, as the same step
// given everything from the host every call; it uploads them once and downloads them only when
// the host needs them (evaluation, a checkpoint, the end of fit), and uploads them again after
// the host changed them (a restore, keep-best's rollback). An inference function's constant
// arguments (aotFunctionOn's `constants`) likewise go up once.
#include "runtime/Checkpoint.h"
#include "runtime/CudaAot.h"
#include "runtime/train/AotDevice.h"
#include "runtime/train/AotFunction.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/runtime/FakeCuda.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace runtime_ResidentTrainingTest {

using namespace weft;
using weft::testing::HostGpu;
using weft::testing::Moves;
using weft::testing::movesSoFar;
using weft::testing::since;

namespace {

/// @toy_step(%w: f32[4], %w.m: f32[4], %x: f32[1 x 4], %step: i64)
///     -> (loss: f32 = w[0], w.new = w.m, w.m.new = x) aliases(1 = %w, 2 = %w.m)
/// A step of copies only, which the stand-in runs for real (it runs no kernels): the weights
/// trail the batches by two steps, so a step that read stale weights or state shows.
cuda::AotPlan toyPlan() {
  cuda::AotPlan p;
  p.function = "toy_step";
  p.sm = "sm_90";
  p.ptx = ".version 8.5\n.target sm_90\n";
  p.arenaBytes = 96;
  p.params = {{0, 16}, {16, 16}, {32, 16}, {48, 8}};
  p.results = {{56, 4}, {64, 16}, {80, 16}};
  auto copy = [](uint64_t dst, uint64_t src, uint64_t bytes) {
    cuda::AotPlan::Step s;
    s.kind = cuda::AotPlan::Step::Kind::Copy;
    s.dst = dst;
    s.src = src;
    s.bytes = bytes;
    s.op = "'copy' (toy.wir:2:3)";
    return s;
  };
  p.steps = {copy(64, 16, 16), copy(80, 32, 16), copy(56, 0, 4)};
  return p;
}

constexpr int32_t kF32 = static_cast<int32_t>(DType::F32), kI64 = static_cast<int32_t>(DType::I64);
const weft_aot_dim kDims[] = {{4, 0, 0}, {1, 0, 0}, {4, 0, 0}};
// w, w.m, x, step; loss, w.new, w.m.new.
const weft_aot_slot kSlots[] = {{kF32, 1, 0, 0, 0}, {kF32, 1, 0, 0, 0}, {kF32, 2, 1, 0, 0},
                                {kI64, 0, 0, 0, 0}, {kF32, 0, 0, 0, 0}, {kF32, 1, 0, 0, 0},
                                {kF32, 1, 0, 0, 0}};
const int32_t kParamSlots[] = {0, 1, 2, 3}, kResultSlots[] = {4, 5, 6};
const char *const kParamNames[] = {"w", "w.m", "x", "step"};
const char *const kResultNames[] = {"loss", "w.new", "w.m.new"};
const int32_t kAliasResults[] = {1, 2}, kAliasParams[] = {0, 1};

/// The toy step's tables, as weftc would generate them, with `code` as its GPU code.
weft_aot_function toyStep(const std::string &code) {
  weft_aot_function fn{};
  fn.name = "toy_step";
  fn.n_slots = std::size(kSlots);
  fn.slots = kSlots;
  fn.dims = kDims;
  fn.n_params = 4;
  fn.param_slots = kParamSlots;
  fn.param_names = kParamNames;
  fn.n_results = 3;
  fn.result_slots = kResultSlots;
  fn.result_names = kResultNames;
  fn.n_aliases = 2;
  fn.alias_results = kAliasResults;
  fn.alias_params = kAliasParams;
  fn.gpu_code = reinterpret_cast<const unsigned char *>(code.data());
  return fn;
}

/// Five examples of four distinct values each.
train::Dataset examples() {
  Array x(DType::F32, {5, 4});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = static_cast<float>(i * i % 7) - 2.5f * static_cast<float>(i % 3);
  train::Dataset d;
  d.add("x", std::move(x)).check();
  return d;
}

/// The held-out metric: the first weight (the evaluation reads the host's weights).
train::Evaluation firstWeight() {
  train::Function f = [](std::span<Array> args) -> Expected<std::vector<Array>> {
    return std::vector<Array>{Array::of<float>({}, {args[0].data<float>()[0]})};
  };
  return {.function = f, .numArgs = 2, .paramArgs = {0}, .batch = {{"x", 1}}, .metrics = {"w0"}};
}

train::TrainOptions options(int64_t epochs) {
  train::TrainOptions o;
  o.epochs = epochs;
  o.batching = {.batchSize = 1, .shuffle = true, .dropLast = false, .seed = 3};
  o.progress = train::Progress::Off;
  return o;
}

/// A trainer of the toy step: every argument from the host each call, or (`resident`) the
/// weights and state kept on the device.
train::Trainer trainer(const weft_aot_function &fn, const HostGpu &gpu, bool resident,
                       train::TrainOptions o) {
  Expected<train::Step> step =
      resident ? train::aotStepOn(fn, "cuda", gpu.driver()) : [&]() -> Expected<train::Step> {
    auto f = train::aotFunctionOn(fn, "cuda", gpu.driver());
    if (!f)
      return f.diag();
    return train::Step(std::move(*f));
  }();
  REQUIRE_OK(step);
  train::StepLayout layout = train::aotStepLayout(fn).take();
  auto t = train::Trainer::make(std::move(*step), layout, {Array::of<float>({4}, {1, 2, 3, 4})},
                                {Array::of<float>({4}, {-1, -2, -3, -4})}, std::move(o));
  REQUIRE_OK(t);
  t->evaluateWith(firstWeight());
  return std::move(*t);
}

bool sameBits(const Array &a, const Array &b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

void checkSameValues(const std::vector<Array> &got, const std::vector<Array> &want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(sameBits(got[i], want[i]));
  }
}

/// A fresh folder under the system's temporary one, removed with this object.
struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("weft-resident-" + std::to_string(::getpid()) + "-" +
                                std::to_string(reinterpret_cast<uintptr_t>(this)));
  TempDir() { std::filesystem::remove_all(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
};

} // namespace

TEST_CASE("a step that keeps its weights on the GPU trains to the same bits, uploading them once") {
  HostGpu gpu;
  const std::string code = cuda::encodeAotPlan(toyPlan());
  const weft_aot_function fn = toyStep(code);
  const train::Dataset data = examples(), heldOut = examples();
  // Three epochs of five steps, stopped one step short: the last epoch has no evaluation.
  constexpr int64_t kEpochs = 3, kSteps = 14;
  train::TrainOptions o = options(kEpochs);
  o.maxSteps = kSteps;

  train::Trainer host = trainer(fn, gpu, /*resident=*/false, o);
  auto want = host.fit(data, &heldOut);
  REQUIRE_OK(want);
  REQUIRE(want->losses.size() == size_t{kSteps});

  train::Trainer kept = trainer(fn, gpu, /*resident=*/true, o);
  Moves before = movesSoFar();
  auto got = kept.fit(data, &heldOut);
  const Moves moved = since(before);
  REQUIRE_OK(got);
  CHECK(got->losses == want->losses);
  CHECK(got->eval == want->eval); // each epoch's evaluation saw the device's weights
  checkSameValues(kept.params(), host.params());
  checkSameValues(kept.state(), host.state());
  CHECK_FALSE(sameBits(kept.params()[0], Array::of<float>({4}, {1, 2, 3, 4})));
  // Up: the weight and its state once, the batch and the step number every step. Down: the loss
  // every step, and the weight and state for the two evaluations and at the end of fit.
  CHECK(moved.uploads == 2 + 2 * kSteps);
  CHECK(moved.downloads == kSteps + 2 * 2 + 2);
}

TEST_CASE("a checkpoint written mid-training holds the GPU's values, and a restore uploads") {
  HostGpu gpu;
  const std::string code = cuda::encodeAotPlan(toyPlan());
  const weft_aot_function fn = toyStep(code);
  const train::Dataset data = examples();
  TempDir hostDir, keptDir;
  train::TrainOptions o = options(1);
  o.checkpointEvery = 2;
  o.keepLast = 10;
  o.checkpointDir = hostDir.path.string();
  train::Trainer host = trainer(fn, gpu, /*resident=*/false, o);
  o.checkpointDir = keptDir.path.string();
  train::Trainer kept = trainer(fn, gpu, /*resident=*/true, o);
  REQUIRE_OK(host.fit(data));
  REQUIRE_OK(kept.fit(data));
  for (const char *name :
       {"checkpoint-0000000002.safetensors", "checkpoint-0000000004.safetensors"}) {
    CAPTURE(name);
    auto want = loadCheckpoint((hostDir.path / name).string());
    auto got = loadCheckpoint((keptDir.path / name).string());
    REQUIRE_OK(want);
    REQUIRE_OK(got);
    CHECK(sameBits(got->params[0].array, want->params[0].array));
    CHECK(sameBits(got->optimizerState[0].array, want->optimizerState[0].array));
  }

  // Back to the checkpoint after step 2: the restored values go up before the next step.
  const std::string mid = (keptDir.path / "checkpoint-0000000002.safetensors").string();
  REQUIRE_OK(
      host.resumeFromCheckpoint((hostDir.path / "checkpoint-0000000002.safetensors").string()));
  REQUIRE_OK(kept.resumeFromCheckpoint(mid));
  REQUIRE_OK(host.fit(data));
  Moves before = movesSoFar();
  REQUIRE_OK(kept.fit(data));
  const Moves moved = since(before);
  checkSameValues(kept.params(), host.params());
  checkSameValues(kept.state(), host.state());
  // Three steps (batches 3-5); a checkpoint after step 4 and at the end, each pulling once.
  CHECK(moved.uploads == 2 + 2 * 3);
  CHECK(moved.downloads == 3 + 2 * 2);
}

TEST_CASE("keep-best's rollback on a GPU-resident step is what fit() ends with") {
  HostGpu gpu;
  const std::string code = cuda::encodeAotPlan(toyPlan());
  const weft_aot_function fn = toyStep(code);
  const train::Dataset data = examples(), heldOut = examples();
  // Three epochs evaluated and a fourth stopped short, so that the optimizer state kept with the
  // rolled-back weights is one no evaluation pulled; the first epoch's weights are the best.
  train::TrainOptions o = options(4);
  o.maxSteps = 18;
  o.batching.seed = 1;
  o.keepBest = train::KeepBest{.metric = "w0", .better = train::KeepBest::Better::Lower};
  train::Trainer host = trainer(fn, gpu, /*resident=*/false, o);
  train::Trainer kept = trainer(fn, gpu, /*resident=*/true, o);
  auto want = host.fit(data, &heldOut);
  auto got = kept.fit(data, &heldOut);
  REQUIRE_OK(want);
  REQUIRE_OK(got);
  REQUIRE(want->bestEpoch);
  REQUIRE(want->bestEpoch == 0);
  REQUIRE(want->eval.size() == 3);
  CHECK(kept.params()[0].data<float>()[0] == static_cast<float>(want->eval[0][0]));
  CHECK(got->bestEpoch == want->bestEpoch);
  checkSameValues(kept.params(), host.params());
  checkSameValues(kept.state(), host.state());
}

TEST_CASE("a GPU-resident step refuses what it cannot keep") {
  HostGpu gpu;
  const std::string code = cuda::encodeAotPlan(toyPlan());
  const weft_aot_function fn = toyStep(code);
  auto step = train::aotStepOn(fn, "cuda", gpu.driver());
  REQUIRE_OK(step);
  train::StepLayout layout = train::aotStepLayout(fn).take();
  train::TrainOptions o = options(1);
  o.shards = 2;
  auto sharded =
      train::Trainer::make(*step, layout, {Array(DType::F32, {4})}, {Array(DType::F32, {4})}, o);
  REQUIRE_FALSE(sharded);
  CHECK(sharded.diag().message == "a step that keeps its weights on its device runs one shard per "
                                  "process, not 2: each shard would need its own copy of them");
  // A layout in which the state is fed from the data set instead of carried.
  train::StepLayout fed = layout;
  fed.batch.push_back({"w.m", fed.state[0].arg});
  fed.state.clear();
  auto notCarried = train::Trainer::make(*step, fed, {Array(DType::F32, {4})}, {}, options(1));
  REQUIRE_FALSE(notCarried);
  CHECK(notCarried.diag().message == "the step keeps argument 1 on its device, but it is not a "
                                     "parameter or optimizer state the step updates");
}

TEST_CASE("an inference function's constant arguments go up with its first call only") {
  HostGpu gpu;
  const std::string code = cuda::encodeAotPlan(toyPlan());
  const weft_aot_function fn = toyStep(code);
  // The toy step as a plain function whose batch (argument 2) is a constant.
  const size_t batch[] = {2};
  auto f = train::aotFunctionOn(fn, "cuda", batch, gpu.driver());
  REQUIRE_OK(f);
  auto args = [](float x) {
    std::vector<Array> a;
    a.push_back(Array::of<float>({4}, {1, 2, 3, 4}));
    a.push_back(Array::of<float>({4}, {5, 6, 7, 8}));
    a.push_back(Array::of<float>({1, 4}, {x, x, x, x}));
    a.push_back(Array::of<int64_t>({}, {0}));
    return a;
  };
  std::vector<Array> first = args(9), second = args(-9);
  Moves before = movesSoFar();
  auto r1 = (*f)(first);
  REQUIRE_OK(r1);
  CHECK(since(before).uploads == 4);
  before = movesSoFar();
  auto r2 = (*f)(second);
  REQUIRE_OK(r2);
  CHECK(since(before).uploads == 3);
  // The second call read the first call's batch, kept on the device.
  CHECK(sameBits((*r2)[2], Array::of<float>({4}, {9, 9, 9, 9})));

  const size_t updated[] = {1}, beyond[] = {4};
  auto inPlace = train::aotFunctionOn(fn, "cuda", updated, gpu.driver());
  REQUIRE_FALSE(inPlace);
  CHECK(inPlace.diag().message ==
        "@toy_step updates argument 1 ('w.m') in place: it is not a constant");
  auto outside = train::aotFunctionOn(fn, "cuda", beyond, gpu.driver());
  REQUIRE_FALSE(outside);
  CHECK(outside.diag().message == "@toy_step takes 4 arguments; argument 4 cannot stay on the GPU");
}

} // namespace runtime_ResidentTrainingTest
