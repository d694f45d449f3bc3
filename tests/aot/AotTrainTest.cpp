// A training step that weftc compiled ahead of time (linear_step.wir with the optimize-step
// pipeline -> linear_step.o + linear_step.h at build time), run through train::aotFunction: its
// layout from its names, results equal to the typed wrapper's, bad inputs refused with the
// call's message, and the Trainer fitting a linear map with it, all without LLVM.
#include "linear_step.h"
#include "runtime/Random.h"
#include "runtime/train/AotFunction.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace weft;

namespace {

/// y = x A + c for every row of x [n, 3]: the map the tests fit.
Array targetsOf(const Array &x) {
  const float a[3][2] = {{1.5f, -2}, {0.5f, 1}, {-1, 0.25f}}, c[2] = {0.3f, -0.7f};
  int64_t n = x.shape()[0];
  Array y(DType::F32, {n, 2});
  for (int64_t i = 0; i < n; ++i)
    for (int j = 0; j < 2; ++j) {
      float v = c[j];
      for (int k = 0; k < 3; ++k)
        v += x.data<float>()[i * 3 + k] * a[k][j];
      y.data<float>()[i * 2 + j] = v;
    }
  return y;
}

Array inputsOf(int64_t n) {
  Array x(DType::F32, {n, 3});
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = 2 * random::uniformF32(/*seed=*/11, static_cast<uint64_t>(i)) - 1;
  return x;
}

/// The step's arguments: parameters, Adam's state, a batch of n rows, the step number.
std::vector<Array> stepArgs(int64_t n, int64_t step) {
  Array W = Array::of<float>({3, 2}, {0.1f, -0.2f, 0.3f, 0.0f, -0.1f, 0.2f});
  Array b = Array::of<float>({2}, {0.05f, -0.05f});
  Array x = inputsOf(n), y = targetsOf(x);
  return {W,
          b,
          Array(DType::F32, {3, 2}),
          Array(DType::F32, {3, 2}),
          Array(DType::F32, {2}),
          Array(DType::F32, {2}),
          x,
          y,
          Array::of<int64_t>({}, {step})};
}

std::vector<std::string> carriedNames(const std::vector<train::Carried> &cs) {
  std::vector<std::string> v;
  for (const auto &c : cs)
    v.push_back(c.name + "@" + std::to_string(c.arg) + "->" + std::to_string(c.result));
  return v;
}

} // namespace

TEST_CASE("the layout of a weftc-compiled training step follows from its names") {
  auto layout = train::aotStepLayout(weft_linear_step_fn);
  REQUIRE(layout.isOk());
  CHECK(layout->numArgs == 9);
  CHECK(carriedNames(layout->params) == std::vector<std::string>{"W@0->1", "b@1->2"});
  CHECK(carriedNames(layout->state) ==
        std::vector<std::string>{"W.exp_avg@2->3", "W.exp_avg_sq@3->4", "b.exp_avg@4->5",
                                 "b.exp_avg_sq@5->6"});
  REQUIRE(layout->batch.size() == 2);
  CHECK(layout->batch[0].name == "x");
  CHECK(layout->batch[0].arg == 6);
  CHECK(layout->batch[1].name == "y");
  CHECK(layout->batch[1].arg == 7);
  CHECK(layout->stepArg == 8);
  CHECK(layout->lossResult == 0);

  auto state = train::aotZeroState(weft_linear_step_fn, *layout);
  REQUIRE(state.isOk());
  REQUIRE(state->size() == 4);
  CHECK((*state)[0].shape() == std::vector<int64_t>{3, 2});
  CHECK((*state)[3].shape() == std::vector<int64_t>{2});
  CHECK((*state)[3].getDouble(1) == 0.0);
}

TEST_CASE("a compiled function that is not a training step has no step layout") {
  auto layout = train::aotStepLayout(weft_linear_fn);
  REQUIRE_FALSE(layout.isOk());
  CHECK(layout.diag().message.find("@linear: this function is not a training step") == 0);
}

TEST_CASE("aotFunction gives the typed wrapper's results, shaped by the bound batch") {
  const int64_t B = 5;
  std::vector<Array> args = stepArgs(B, 3), moved = stepArgs(B, 3);
  auto results = train::aotFunction(weft_linear_step_fn)(moved);
  REQUIRE(results.isOk());
  REQUIRE(results->size() == 9); // loss, 2 parameters, 4 Adam moments, 2 gradient maxima

  std::vector<std::vector<float>> want = {
      std::vector<float>(1), std::vector<float>(6), std::vector<float>(2),
      std::vector<float>(6), std::vector<float>(6), std::vector<float>(2),
      std::vector<float>(2), std::vector<float>(1), std::vector<float>(1)};
  auto f = [&](size_t i) { return args[i].data<float>(); };
  char err[256];
  REQUIRE(weft_linear_step(f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7), args[8].data<int64_t>(),
                           B, want[0].data(), want[1].data(), want[2].data(), want[3].data(),
                           want[4].data(), want[5].data(), want[6].data(), want[7].data(),
                           want[8].data(), err, sizeof err) == WEFT_AOT_OK);
  for (size_t r = 0; r < want.size(); ++r) {
    CAPTURE(r);
    const Array &got = (*results)[r];
    CHECK(got.numel() == static_cast<int64_t>(want[r].size()));
    CHECK(std::memcmp(got.data(), want[r].data(), got.nbytes()) == 0);
  }
  CHECK((*results)[0].shape().empty());
  CHECK((*results)[1].shape() == std::vector<int64_t>{3, 2});
  CHECK((*results)[0].getDouble(0) > 0.1); // the initial W is far from the target map
}

TEST_CASE("aotFunction updates parameters and state in their own arrays, copying none") {
  std::vector<Array> args = stepArgs(5, 3);
  std::vector<const void *> buffers;
  for (size_t i = 0; i < 6; ++i)
    buffers.push_back(args[i].data());
  auto results = train::aotFunction(weft_linear_step_fn)(args);
  REQUIRE(results.isOk());
  for (size_t i = 0; i < 6; ++i) {
    CAPTURE(i);
    CHECK((*results)[1 + i].data() == buffers[i]); // result 1 + i is argument i, updated
    CHECK(args[i].data() == nullptr);              // moved out of the arguments
  }
  CHECK(args[6].data() != nullptr); // the batch is only read
}

TEST_CASE("aotFunction keeps one scratch arena across calls and grows it for a larger batch") {
  struct Counts {
    int allocs = 0;
  } counts;
  auto alloc = [](size_t bytes, void *ctx) -> void * {
    ++static_cast<Counts *>(ctx)->allocs;
    return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  };
  auto release = [](void *p, void *) { std::free(p); };
  REQUIRE(weft_aot_set_allocator(alloc, release, &counts) == WEFT_AOT_OK);
  {
    train::Function step = train::aotFunction(weft_linear_step_fn);
    auto call = [&](int64_t B) {
      std::vector<Array> args = stepArgs(B, 0);
      return step(args).isOk();
    };
    for (int64_t B : {5, 5, 5}) {
      CAPTURE(B);
      REQUIRE(call(B));
    }
    CHECK(counts.allocs == 1);
    REQUIRE(call(64));
    REQUIRE(call(5));
    CHECK(counts.allocs == 2);
  }
  REQUIRE(weft_aot_set_allocator(nullptr, nullptr, nullptr) == WEFT_AOT_OK);
}

TEST_CASE("aotFunction refuses bad inputs with the call's message") {
  train::Function step = train::aotFunction(weft_linear_step_fn);
  std::vector<Array> args = stepArgs(4, 0);
  args[6] = Array(DType::F64, {4, 3});
  auto wrongDtype = step(args);
  REQUIRE_FALSE(wrongDtype.isOk());
  CHECK(wrongDtype.diag().message ==
        "@linear_step: input 6 (%x) has dtype f64, expected tensor<B x 3 x f32>");

  args = stepArgs(4, 0);
  args[7] = Array(DType::F32, {5, 2});
  auto disagree = step(args);
  REQUIRE_FALSE(disagree.isOk());
  CHECK(disagree.diag().message.find("@linear_step: ") == 0);
  CHECK(disagree.diag().message.find("B") != std::string::npos);

  args.pop_back();
  auto tooFew = step(args);
  REQUIRE_FALSE(tooFew.isOk());
  CHECK(tooFew.diag().message == "@linear_step: expected 9 inputs, got 8");
}

TEST_CASE("the Trainer fits a linear map with a weftc-compiled Adam step") {
  auto layout = train::aotStepLayout(weft_linear_step_fn).take();
  std::vector<Array> args = stepArgs(1, 0);
  std::vector<Array> params = {args[0], args[1]};
  auto state = train::aotZeroState(weft_linear_step_fn, layout).take();

  train::Dataset data;
  Array x = inputsOf(256);
  REQUIRE(data.add("y", targetsOf(x)).isOk());
  REQUIRE(data.add("x", x).isOk());
  train::TrainOptions o;
  o.batching = {.batchSize = 32, .shuffle = true, .dropLast = false, .seed = 3};
  o.epochs = 40; // 320 steps
  o.progress = train::Progress::Off;
  auto trainer = train::Trainer::make(train::aotFunction(weft_linear_step_fn), layout,
                                      std::move(params), std::move(state), o);
  REQUIRE(trainer.isOk());
  auto history = trainer->fit(data);
  REQUIRE(history.isOk());
  REQUIRE(history->losses.size() == 320);
  CAPTURE(history->losses.front());
  CAPTURE(history->losses.back());
  CHECK(history->losses.back() < 1e-3 * history->losses.front());
  // The map it learned: W near A, b near c.
  CHECK(trainer->params()[0].getDouble(0) == doctest::Approx(1.5).epsilon(0.02));
  CHECK(trainer->params()[1].getDouble(1) == doctest::Approx(-0.7).epsilon(0.02));
}
