//===- tests/unit/train/DropoutStepTest.cpp - a new dropout mask every step ===//
//
// A model whose dropout is seeded by nn::stepSeed, trained by an optimize-step step through the
// Trainer: the step counter is the forward function's %step, so each step draws a new mask, and
// a run resumed from a checkpoint draws the masks the uninterrupted run drew at the same steps.
//
// The mask is read off the update: loss = mean(dropout(w)) and SGD with lr = 1 move exactly the
// kept elements of w (by 2 / kWidth each), so each step's mask is where w.new differs from w.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "frontend/Weft.h"
#include "frontend/nn/Dropout.h"
#include "ir/Signature.h"
#include "passes/PassManager.h"
#include "runtime/train/StepLayout.h"
#include "runtime/train/Trainer.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <unistd.h>

namespace train_DropoutStepTest {

using namespace weft;
using namespace weft::train;

namespace {

constexpr int64_t kWidth = 64, kSteps = 6;

/// @drop(%w, %x, %step) -> mean(dropout(w * x, p)) and its SGD step @drop_step.
std::unique_ptr<ir::Module> dropoutStep(double p) {
  Graph g("drop");
  Dim B = g.dim("B");
  Tensor x = g.input("x", {B, kWidth});
  nn::Scope s = nn::Scope(g, nn::Mode::Train).withSeed(nn::stepSeed(g, /*seed=*/7));
  Tensor w = s.param("w", {kWidth}, init::ones());
  g.output(mean(nn::dropout(s, x * w, p), {0, 1}));
  auto m = g.build();
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE_OK(pm.addPipeline("optimize-step{kind=sgd lr=1 params=w}"));
  REQUIRE_OK(pm.run(*m));
  return m;
}

/// kSteps rows of ones: one batch per step.
Dataset ones() {
  Dataset d;
  d.add("x", Array::of<float>({kSteps, kWidth}, std::vector<float>(kSteps * kWidth, 1.0f))).check();
  return d;
}

/// Trains @drop_step on ones() and records each step's mask by its step number.
struct MaskRecorder {
  std::unique_ptr<ir::Module> m = dropoutStep(0.5);
  std::unique_ptr<cpu::Executable> exe;
  StepLayout layout;
  std::map<int64_t, std::vector<bool>> masks;

  MaskRecorder() {
    auto compiled = cpu::compile(*m);
    REQUIRE_OK(compiled);
    exe = std::move(*compiled);
    ir::Signature sig = ir::Signature::of(*m->function("drop_step"));
    auto l = stepLayoutFromNames(sig.paramNames, sig.resultNames);
    REQUIRE_OK(l);
    layout = *l;
    REQUIRE(layout.stepArg.has_value());
  }

  Trainer trainer(TrainOptions o) {
    Function run = [this](std::span<const Array> a) -> Expected<std::vector<Array>> {
      auto r = exe->run("drop_step", a);
      if (r) {
        const Array &w = a[layout.params[0].arg], &w2 = (*r)[layout.params[0].result];
        std::vector<bool> kept;
        for (int64_t i = 0; i < kWidth; ++i)
          kept.push_back(w2.getDouble(i) != w.getDouble(i));
        masks[a[*layout.stepArg].getInt(0)] = kept;
      }
      return r;
    };
    std::vector<float> w(kWidth, 1.0f);
    auto t = Trainer::make(run, layout, {Array::of<float>({kWidth}, w)}, {}, std::move(o));
    REQUIRE_OK(t);
    return std::move(*t);
  }
};

TrainOptions quiet() {
  TrainOptions o;
  o.epochs = 1;
  o.batching = {.batchSize = 1, .shuffle = false, .dropLast = false, .seed = 1};
  o.progress = Progress::Off;
  return o;
}

size_t countOps(const ir::Function &f, ir::OpKind kind) {
  size_t n = 0;
  for (const auto &op : f.body().ops())
    n += op->kind() == kind;
  return n;
}

} // namespace

TEST_CASE("dropout seeded by the step counter draws a new mask every training step") {
  MaskRecorder r;
  CHECK(countOps(*r.m->function("drop_step"), ir::OpKind::RandomUniform) == 1);
  Trainer t = r.trainer(quiet());
  REQUIRE_OK(t.fit(ones()));
  REQUIRE(r.masks.size() == size_t(kSteps));
  for (int64_t s = 0; s < kSteps; ++s) {
    CAPTURE(s);
    size_t kept = 0;
    for (bool k : r.masks[s])
      kept += k;
    CHECK(kept > 0); // p = 0.5 over 64 elements: neither all dropped nor all kept
    CHECK(kept < size_t(kWidth));
    if (s > 0)
      CHECK(r.masks[s] != r.masks[s - 1]);
  }
}

TEST_CASE("a run resumed from a checkpoint draws the masks the uninterrupted run drew") {
  auto dir =
      std::filesystem::temp_directory_path() / ("weft-dropout-step-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  MaskRecorder whole;
  REQUIRE_OK(whole.trainer(quiet()).fit(ones()));

  TrainOptions first = quiet();
  first.checkpointDir = dir.string();
  first.checkpointEvery = 1;
  first.maxSteps = 3;
  MaskRecorder stopped;
  REQUIRE_OK(stopped.trainer(first).fit(ones()));

  TrainOptions again = quiet();
  again.checkpointDir = dir.string();
  MaskRecorder resumed;
  Trainer t = resumed.trainer(again);
  auto found = t.resumeFromCheckpoint();
  REQUIRE_OK(found);
  REQUIRE(*found);
  REQUIRE_OK(t.fit(ones()));
  CHECK(resumed.masks.begin()->first == 3); // steps 3, 4, 5 only
  REQUIRE(resumed.masks.size() == 3);
  for (auto &[step, mask] : resumed.masks) {
    CAPTURE(step);
    CHECK(mask == whole.masks[step]);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("dropout with p = 0 builds no random op into the step, which still takes %step") {
  auto m = dropoutStep(0.0);
  const ir::Function &step = *m->function("drop_step");
  CHECK(countOps(step, ir::OpKind::RandomUniform) == 0);
  size_t steps = 0;
  for (size_t i = 0; i < step.numParams(); ++i)
    steps += step.param(i)->name() == "step";
  CHECK(steps == 1); // the forward's %step is the step counter, not a second argument
}

TEST_CASE("a forward parameter %step that is not a tensor<i64> scalar is refused by name") {
  Graph g("bad");
  Tensor step = g.input("step", {2});
  Tensor w = g.param("w", {2}, init::ones());
  g.output(sum(w * step, {0}));
  auto m = g.build();
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE_OK(pm.addPipeline("optimize-step{kind=sgd params=w}"));
  Status s = pm.run(*m);
  REQUIRE_FALSE(s.isOk());
  CHECK(s.message() ==
        "pass 'optimize-step' (#1) failed: optimize-step: @bad has a parameter %step of type "
        "tensor<2 x f32>; %step is the step counter, a tensor<i64> scalar (rename it, or make it "
        "one)");
}

} // namespace train_DropoutStepTest
