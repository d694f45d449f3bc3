//===- tests/checkpoint/TrainCheckpointed.cpp - a run that may be killed --===//
//
// A small real training run for scripts/kill_checkpoint.sh: an MLP regression
// (x: 16 x 8 -> tanh(x W1 + b1) W2 + b2, mean squared error against a fixed
// teacher) whose gradient comes from autodiff and runs on the CPU JIT, with
// SGD + momentum on the host. Batches are drawn from the counter-based
// generator of runtime/Random.h; its counter is part of the checkpoint, as are
// the parameters, the momentum, and the step. A checkpoint is written after
// every step; the run resumes from the newest one in its folder, if any.
//
//   weft-checkpoint-train --dir D --steps N [--keep K] [--pause-us U]
//
// --pause-us sleeps U microseconds after each step of every checkpoint write
// (data written, synced, renamed), so that a SIGKILL lands inside writes.
// Prints "start step S" once compiled and loaded, "done step N" at the end.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "frontend/Weft.h"
#include "passes/autodiff/Autodiff.h"
#include "runtime/Checkpoint.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>

using namespace weft;

namespace {

constexpr int64_t kBatch = 16, kIn = 8, kHidden = 32;
constexpr float kLearningRate = 0.05f, kMomentum = 0.9f;
constexpr int64_t kDataSeed = 20261201, kInitSeed = 7;
constexpr const char *kPrefix = "ckpt";

struct Options {
  std::string dir;
  int64_t steps = 0;
  size_t keep = 3;
  unsigned pauseMicros = 0;
};

Options parseOptions(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc)
      throw Error(err(fmt::format("option '{}' needs a value", arg)));
    std::string value = argv[++i];
    if (arg == "--dir")
      o.dir = value;
    else if (arg == "--steps")
      o.steps = std::stoll(value);
    else if (arg == "--keep")
      o.keep = std::stoul(value);
    else if (arg == "--pause-us")
      o.pauseMicros = static_cast<unsigned>(std::stoul(value));
    else
      throw Error(err(fmt::format("unknown option '{}'", arg)));
  }
  if (o.dir.empty() || o.steps <= 0)
    throw Error(err("usage: weft-checkpoint-train --dir D --steps N [--keep K] [--pause-us U]"));
  return o;
}

/// x in [-1, 1) from counters counter .. counter + B*In - 1, y = tanh(x . teacher).
std::pair<Array, Array> batch(const RngState &rng) {
  Array x(DType::F32, {kBatch, kIn}), y(DType::F32, {kBatch, 1});
  for (int64_t b = 0; b < kBatch; ++b) {
    double dot = 0;
    for (int64_t j = 0; j < kIn; ++j) {
      float v = 2.0f * random::uniformF32(rng.seed, rng.counter + b * kIn + j) - 1.0f;
      x.data<float>()[b * kIn + j] = v;
      dot += v * (j % 2 ? 0.5 : -0.25);
    }
    y.data<float>()[b] = static_cast<float>(std::tanh(dot));
  }
  return {std::move(x), std::move(y)};
}

} // namespace

int main(int argc, char **argv) try {
  Options opt = parseOptions(argc, argv);

  Graph g("mlp");
  Tensor x = g.input("x", {kBatch, kIn});
  Tensor y = g.input("y", {kBatch, 1});
  Tensor w1 = g.param("fc1.weight", {kIn, kHidden}, init::xavier());
  Tensor b1 = g.param("fc1.bias", {kHidden}, init::zeros());
  Tensor w2 = g.param("fc2.weight", {kHidden, 1}, init::xavier());
  Tensor b2 = g.param("fc2.bias", {1}, init::zeros());
  Tensor err = matmul(tanh(matmul(x, w1) + b1), w2) + b2 - y;
  g.output(mean(err * err, {0, 1}).named("loss"));
  auto module = g.build();
  autodiff::GradOptions gradOptions;
  for (const ParamInfo &p : g.params())
    gradOptions.wrt.push_back(p.name);
  ir::Function *grad =
      autodiff::buildGradient(*module, *module->functions()[0], gradOptions).take();
  // -O0: compiling is most of a short run's time, and the model is tiny.
  cpu::CompileOptions compileOptions;
  compileOptions.optLevel = 0;
  auto exe = cpu::compile(*module, compileOptions).take();

  // The state a checkpoint holds, initial or resumed.
  Checkpoint state;
  std::vector<Array> init = g.initParams(kInitSeed);
  for (size_t k = 0; k < g.params().size(); ++k) {
    const std::string &name = g.params()[k].name;
    state.optimizerState.push_back({name + ".momentum", Array(init[k].dtype(), init[k].shape())});
    state.params.push_back({name, std::move(init[k])});
  }
  state.rng = {kDataSeed, 0};
  state.metadata = {{"model", "mlp-8-32-1"}, {"optimizer", "sgd-momentum"}};
  std::string newest = newestCheckpointIn(opt.dir, kPrefix).take();
  if (!newest.empty())
    state = loadCheckpoint(newest, {specsOf(state.params), specsOf(state.optimizerState)}).take();
  std::printf("start step %lld\n", static_cast<long long>(state.step));
  std::fflush(stdout);

  AtomicWriteObserver pause;
  if (opt.pauseMicros)
    pause = [&](AtomicWriteStep, const std::string &) { ::usleep(opt.pauseMicros); };
  std::filesystem::create_directories(opt.dir);
  float loss = 0;
  while (state.step < opt.steps) {
    auto [xs, ys] = batch(state.rng);
    state.rng.counter += kBatch * kIn;
    std::vector<Array> params;
    for (const NamedArray &p : state.params)
      params.push_back(p.array);
    auto out = exe->run(grad->name(), g.arguments({std::move(xs), std::move(ys)}, params)).take();
    loss = out[0].data<float>()[0];
    for (size_t k = 0; k < state.params.size(); ++k) {
      float *p = state.params[k].array.data<float>();
      float *v = state.optimizerState[k].array.data<float>();
      const float *dp = out[1 + k].data<float>();
      for (int64_t i = 0; i < out[1 + k].numel(); ++i) {
        v[i] = kMomentum * v[i] + dp[i];
        p[i] -= kLearningRate * v[i];
      }
    }
    ++state.step;
    saveCheckpointIn(opt.dir, kPrefix, state, opt.keep, pause).take();
  }
  std::printf("done step %lld loss %.6f\n", static_cast<long long>(state.step), loss);
  return 0;
} catch (const std::exception &e) {
  std::fprintf(stderr, "weft-checkpoint-train: %s\n", e.what());
  return 1;
}
