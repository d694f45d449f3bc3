//===- tests/unit/train/BatchNormStepTest.cpp - carried model buffers -----===//
//
// optimize-step{carry=...} makes BatchNorm's running statistics state of the
// training step: after K steps through the Trainer they are the exponential
// moving averages of the K batches' statistics, computed here by hand.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "frontend/Weft.h"
#include "frontend/nn/BatchNorm.h"
#include "frontend/nn/Linear.h"
#include "frontend/nn/Losses.h"
#include "passes/PassManager.h"
#include "runtime/train/StepLayout.h"
#include "runtime/train/Trainer.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

namespace train_BatchNormStepTest {

using namespace weft;
using namespace weft::train;

namespace {

constexpr int64_t kFeatures = 2, kBatch = 4, kSteps = 3;
constexpr double kMomentum = 0.1;

/// 12 examples with per-feature means and spreads far from BatchNorm's initial 0 and 1.
Dataset data() {
  Array x(DType::F32, {kBatch * kSteps, kFeatures}), y(DType::F32, {kBatch * kSteps, 1});
  for (int64_t i = 0; i < kBatch * kSteps; ++i) {
    x.setDouble(i * 2, 3.0 + 2.0 * std::sin(1.3 * double(i)));
    x.setDouble(i * 2 + 1, -1.0 + 0.5 * std::cos(0.7 * double(i)));
    y.setDouble(i, std::sin(0.5 * double(i)));
  }
  Dataset d;
  d.add("x", std::move(x)).check();
  d.add("y", std::move(y)).check();
  return d;
}

} // namespace

TEST_CASE("BatchNorm's running statistics are carried by the step: K steps give the EMA") {
  Graph g("bnnet");
  Dim B = g.dim("B");
  Tensor x = g.input("x", {B, kFeatures});
  Tensor y = g.input("y", {B, 1});
  nn::Scope model(g, nn::Mode::Train);
  nn::BatchNormResult bn = nn::batchNorm1d(model.child("bn"), x, kFeatures,
                                           nn::BatchNormOptions().withMomentum(kMomentum));
  g.output(nn::mseLoss(nn::linear(model.child("fc"), bn.y, kFeatures, 1), y));
  g.outputs({bn.runningMean, bn.runningVar, bn.numBatchesTracked});
  auto m = g.build();
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE_OK(pm.addPipeline("optimize-step{kind=sgd lr=0.1 params=bn.weight,bn.bias,fc.weight,"
                            "fc.bias carry=bn.running_mean,bn.running_var,bn.num_batches_tracked},"
                            "canonicalize,fuse-elementwise,dce"));
  REQUIRE_OK(pm.run(*m));
  auto exe = cpu::compile(*m);
  REQUIRE_OK(exe);

  const ir::Function &step = *m->function("bnnet_step");
  std::vector<std::string> args, results;
  for (size_t i = 0; i < step.numParams(); ++i)
    args.push_back(step.param(i)->name());
  for (const ir::Value *v : step.returnOp()->operands())
    results.push_back(v->name());
  auto layout = stepLayoutFromNames(args, results);
  REQUIRE_OK(layout);
  // The trained parameters (with gradients), then the buffers, all carried.
  std::vector<std::string> carried;
  for (const Carried &c : layout->params) {
    carried.push_back(c.name);
    CHECK(c.gradResult.has_value() == (c.name.find("running") == std::string::npos &&
                                       c.name.find("tracked") == std::string::npos));
  }
  CHECK(carried == std::vector<std::string>{"bn.weight", "bn.bias", "fc.weight", "fc.bias",
                                            "bn.running_mean", "bn.running_var",
                                            "bn.num_batches_tracked"});
  CHECK(layout->state.empty());

  // Initial values by name from the graph's initializers.
  std::vector<Array> init = g.initParams(/*seed=*/3), params;
  for (const Carried &c : layout->params)
    for (size_t k = 0; k < g.params().size(); ++k)
      if (g.params()[k].name == c.name)
        params.push_back(init[k]);
  REQUIRE(params.size() == carried.size());

  TrainOptions o;
  o.batching = {.batchSize = kBatch, .shuffle = false, .dropLast = false, .seed = 1};
  o.progress = Progress::Off;
  auto t = Trainer::make([&](std::span<Array> a) { return (*exe)->runInPlace("bnnet_step", a); },
                         *layout, std::move(params), {}, o);
  REQUIRE_OK(t);
  const Dataset d = data();
  auto h = t->fit(d);
  REQUIRE_OK(h);
  CHECK(h->losses.size() == size_t(kSteps));

  // By hand: mean' = (1 - m) mean + m mu, var' = (1 - m) var + m unbiased batch variance.
  const Array &xs = d.array(0);
  double mean[kFeatures] = {0, 0}, var[kFeatures] = {1, 1};
  for (int64_t s = 0; s < kSteps; ++s)
    for (int64_t c = 0; c < kFeatures; ++c) {
      double mu = 0, ss = 0;
      for (int64_t i = 0; i < kBatch; ++i)
        mu += xs.getDouble((s * kBatch + i) * kFeatures + c) / double(kBatch);
      for (int64_t i = 0; i < kBatch; ++i) {
        double dx = xs.getDouble((s * kBatch + i) * kFeatures + c) - mu;
        ss += dx * dx;
      }
      mean[c] = (1 - kMomentum) * mean[c] + kMomentum * mu;
      var[c] = (1 - kMomentum) * var[c] + kMomentum * ss / double(kBatch - 1);
    }
  const Array &runningMean = t->params()[4], &runningVar = t->params()[5];
  for (int64_t c = 0; c < kFeatures; ++c) {
    CAPTURE(c);
    CHECK(runningMean.getDouble(c) == doctest::Approx(mean[c]).epsilon(1e-5));
    CHECK(runningVar.getDouble(c) == doctest::Approx(var[c]).epsilon(1e-5));
  }
  CHECK(t->params()[6].getInt(0) == kSteps);
}

} // namespace train_BatchNormStepTest
