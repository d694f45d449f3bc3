//===- examples/train_native/main.cpp - training with no compiler in the binary -===//
//
// weftc compiled mlp.wir at build time, with its training step (optimize-step, Adam) and the
// `optimize` passes, into an object and mlp_model.h. This program links that object,
// weft_runtime and weft_train only: no LLVM, no IR, no passes. It fits a 1-32-1 tanh MLP to
// sin(3x) on [-1, 1] with train::Trainer, which runs the compiled step through
// train::aotFunction (one scratch arena reused by every step):
//
//   weft-example-train-native [--steps N] [--device cpu|cuda]     (default 300, cpu)
//
// --device cuda runs the same step from the GPU code weftc embedded in the object (for batches
// of 64; runtime/train/AotDevice.h), with the weights and Adam's state kept on the GPU from the
// first step to the last; without a GPU it fails with "no CUDA device: ...".
//
// It prints the loss falling, then the held-out MSE (the compiled loss @mlp, run by the
// Trainer's evaluation), and exits 1 unless the loss fell at least tenfold.
//
//===----------------------------------------------------------------------===//
#include "examples/CommandLine.h"
#include "mlp_model.h"
#include "runtime/Random.h"
#include "runtime/train/AotDevice.h"
#include "runtime/train/AotFunction.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>

using namespace weft;

namespace {

constexpr int64_t kHidden = 32;

/// n points x uniform in [-1, 1) drawn from `seed`, and their targets sin(3x).
train::Dataset sineData(int64_t n, int64_t seed) {
  Array x(DType::F32, {n, 1}), t(DType::F32, {n, 1});
  for (int64_t i = 0; i < n; ++i) {
    float v = 2 * random::uniformF32(seed, static_cast<uint64_t>(i)) - 1;
    x.data<float>()[i] = v;
    t.data<float>()[i] = std::sin(3 * v);
  }
  train::Dataset d;
  d.add("x", std::move(x)).check();
  d.add("t", std::move(t)).check();
  return d;
}

/// PyTorch's nn.Linear initialization: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
Array uniformInit(std::vector<int64_t> shape, int64_t fanIn, int64_t seed) {
  Array a(DType::F32, std::move(shape));
  float bound = 1.0f / std::sqrt(static_cast<float>(fanIn));
  for (int64_t i = 0; i < a.numel(); ++i)
    a.data<float>()[i] = bound * (2 * random::uniformF32(seed, static_cast<uint64_t>(i)) - 1);
  return a;
}

double meanOf(const std::vector<double> &v, size_t from, size_t to) {
  return std::accumulate(v.begin() + from, v.begin() + to, 0.0) / static_cast<double>(to - from);
}

} // namespace

int main(int argc, char **argv) try {
  int64_t steps = 300;
  std::string device = "cpu";
  CLI::App app("Trains a small MLP with a training step compiled ahead of time.",
               "weft-example-train-native");
  examples::addInteger(app, "--steps", steps, "training steps", 20);
  app.add_option("--device", device, "cpu, or cuda for the GPU code in the object")
      ->capture_default_str();
  examples::parseCommandLine(app, argc, argv);

  const weft_aot_function &step = weft_mlp_step_fn, &loss = weft_mlp_fn;
  // On cuda the step keeps the weights and Adam's moments on the GPU between steps; the
  // Trainer pulls them back for the held-out evaluation (@mlp, which takes them from the host).
  Expected<train::Step> stepOn = train::aotStepOn(step, device);
  Expected<train::Function> lossOn =
      stepOn ? train::aotFunctionOn(loss, device) : Expected<train::Function>(stepOn.diag());
  if (!stepOn || !lossOn) {
    std::fprintf(stderr, "weft-example-train-native: %s\n",
                 (stepOn ? lossOn.diag() : stepOn.diag()).str().c_str());
    return 1;
  }
  train::StepLayout layout = train::aotStepLayout(step).take();
  std::vector<Array> params = {uniformInit({1, kHidden}, 1, 1), uniformInit({kHidden}, 1, 2),
                               uniformInit({kHidden, 1}, kHidden, 3), uniformInit({1}, kHidden, 4)};
  std::vector<Array> state = train::aotZeroState(step, layout).take();

  train::Dataset trainSet = sineData(1024, 10), testSet = sineData(256, 20);
  train::TrainOptions o;
  o.batching = {.batchSize = 64, .shuffle = true, .dropLast = false, .seed = 7};
  o.epochs = (steps * 64 + trainSet.size() - 1) / trainSet.size();
  o.maxSteps = steps;
  o.progress = train::Progress::Off;
  auto trainer =
      train::Trainer::make(std::move(*stepOn), layout, std::move(params), std::move(state), o)
          .take();
  // Held-out MSE: @mlp takes the parameters (arguments 0-3) and the batch (x, t).
  trainer.evaluateWith({.function = std::move(*lossOn),
                        .numArgs = loss.n_params,
                        .paramArgs = {0, 1, 2, 3},
                        .batch = {{"x", 4}, {"t", 5}},
                        .metrics = {"mse"}});

  std::printf("training @%s (Adam, lr 0.01), compiled ahead of time: %lld steps, batch 64, on "
              "%s\n",
              step.name, static_cast<long long>(steps), device.c_str());
  double before = trainer.evaluate(testSet).take()[0];
  train::History h = trainer.fit(trainSet).take();
  // The loss, averaged over windows of 10 steps.
  for (size_t s = 0; s + 10 <= h.losses.size(); s += 10)
    if (s % 50 == 0 || s + 10 == h.losses.size())
      std::printf("steps %4zu-%4zu  loss %.5f\n", s, s + 9, meanOf(h.losses, s, s + 10));
  double first = meanOf(h.losses, 0, 10),
         last = meanOf(h.losses, h.losses.size() - 10, h.losses.size());
  double after = trainer.evaluate(testSet).take()[0];
  std::printf("held-out MSE %.5f before, %.5f after training\n", before, after);
  if (!(last * 10 < first)) {
    std::printf("the loss did not fall tenfold: %.5f -> %.5f\n", first, last);
    return 1;
  }
  std::printf("loss fell from %.5f to %.5f\n", first, last);
  return 0;
} catch (const std::exception &e) {
  std::fprintf(stderr, "weft-example-train-native: %s\n", e.what());
  return 1;
}
