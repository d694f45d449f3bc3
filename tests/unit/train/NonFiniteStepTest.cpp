//===- tests/unit/train/NonFiniteStepTest.cpp - a NaN batch in a real step ===//
//
// An optimize-step step, JIT-compiled and run in place by the Trainer, on data
// where one batch holds a NaN that reaches only the second parameter's
// gradient: training stops naming that step and that parameter, or (Skip)
// leaves parameters and state exactly as the step before left them.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"
#include "runtime/train/StepLayout.h"
#include "runtime/train/Trainer.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <sstream>

namespace train_NonFiniteStepTest {

using namespace weft;
using namespace weft::train;

namespace {

/// Two independent regressions: y from x through A, and y from z through C.
constexpr const char *kModel =
    R"(func @two(%A: tensor<3 x 1 x f32>, %C: tensor<3 x 1 x f32>, %x: tensor<B x 3 x f32>, %z: tensor<B x 3 x f32>, %y: tensor<B x 1 x f32>) -> (tensor<f32>) {
  %p = matmul %x, %A : tensor<B x 1 x f32>
  %d = sub %p, %y : tensor<B x 1 x f32>
  %d2 = mul %d, %d : tensor<B x 1 x f32>
  %l1 = reduce_mean %d2 {axes = [0, 1]} : tensor<f32>
  %q = matmul %z, %C : tensor<B x 1 x f32>
  %e = sub %q, %y : tensor<B x 1 x f32>
  %e2 = mul %e, %e : tensor<B x 1 x f32>
  %l2 = reduce_mean %e2 {axes = [0, 1]} : tensor<f32>
  %l = add %l1, %l2 : tensor<f32>
  return %l
}
)";

/// 16 examples; z of example 5 (in the second batch of 4) is NaN when `poisoned`.
Dataset data(bool poisoned) {
  Array x(DType::F32, {16, 3}), z(DType::F32, {16, 3}), y(DType::F32, {16, 1});
  for (int64_t i = 0; i < 16; ++i) {
    for (int64_t k = 0; k < 3; ++k) {
      x.setDouble(i * 3 + k, std::sin(0.9 * double(i * 3 + k)));
      z.setDouble(i * 3 + k, std::cos(0.4 * double(i * 3 + k)));
    }
    y.setDouble(i, std::sin(0.3 * double(i)));
  }
  if (poisoned)
    z.setDouble(5 * 3 + 1, NAN);
  Dataset d;
  d.add("x", std::move(x)).check();
  d.add("z", std::move(z)).check();
  d.add("y", std::move(y)).check();
  return d;
}

/// A momentum-SGD step of @two, compiled; its layout from its names; a Function that runs it
/// in place and counts the carried values it updated in place.
struct CompiledStep {
  std::unique_ptr<ir::Module> module;
  std::unique_ptr<cpu::Executable> exe;
  StepLayout layout;
  std::shared_ptr<int64_t> inPlace = std::make_shared<int64_t>(0);

  CompiledStep() {
    auto m = ir::parseModule(kModel, "two.wir");
    REQUIRE_OK(m);
    module = std::move(*m);
    std::ostringstream log;
    passes::PassManager pm(log);
    REQUIRE_OK(pm.addPipeline(
        "optimize-step{kind=momentum lr=0.05 params=A,C},canonicalize,fuse-elementwise,"
        "dce"));
    REQUIRE_OK(pm.run(*module));
    auto e = cpu::compile(*module);
    REQUIRE_OK(e);
    exe = std::move(*e);
    const ir::Function &step = *module->function("two_step");
    std::vector<std::string> args, results;
    for (size_t i = 0; i < step.numParams(); ++i)
      args.push_back(step.param(i)->name());
    for (const ir::Value *v : step.returnOp()->operands())
      results.push_back(v->name());
    auto l = stepLayoutFromNames(args, results);
    REQUIRE_OK(l);
    layout = std::move(*l);
  }

  Function function() const {
    return [exe = exe.get(), layout = layout, count = inPlace](std::span<Array> a) {
      std::vector<const void *> before;
      for (const Carried &c : layout.params)
        before.push_back(a[c.arg].data());
      auto r = exe->runInPlace("two_step", a);
      if (r)
        for (size_t i = 0; i < layout.params.size(); ++i)
          *count += (*r)[layout.params[i].result].data() == before[i];
      return r;
    };
  }

  Trainer trainer(TrainOptions o) const {
    std::vector<Array> params, state;
    for (size_t i = 0; i < layout.params.size(); ++i)
      params.push_back(Array::of<float>({3, 1}, {0.5f, -0.25f, float(i)}));
    for (size_t i = 0; i < layout.state.size(); ++i)
      state.emplace_back(DType::F32, std::vector<int64_t>{3, 1});
    auto t = Trainer::make(function(), layout, std::move(params), std::move(state), o);
    REQUIRE_OK(t);
    return std::move(*t);
  }
};

TrainOptions inOrder(int64_t maxSteps, OnNonFinite onNonFinite = OnNonFinite::Stop) {
  TrainOptions o;
  o.epochs = 1;
  o.maxSteps = maxSteps;
  o.batching = {.batchSize = 4, .shuffle = false, .dropLast = false, .seed = 1};
  o.progress = Progress::Off;
  o.onNonFinite = onNonFinite;
  return o;
}

bool identicalBits(const Array &a, const Array &b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

} // namespace

TEST_CASE("optimize-step's layout gives each parameter its gradient result") {
  CompiledStep s;
  REQUIRE(s.layout.params.size() == 2);
  CHECK(s.layout.params[0].name == "A");
  CHECK(s.layout.params[1].name == "C");
  for (const Carried &p : s.layout.params) {
    CAPTURE(p.name);
    REQUIRE(p.gradResult.has_value());
    CHECK(s.module->function("two_step")->returnOp()->operand(*p.gradResult)->name() ==
          p.name + ".grad_absmax");
  }
  CHECK(s.layout.state.size() == 2); // A.momentum_buffer, C.momentum_buffer
}

TEST_CASE("a NaN in a batch stops training naming the step and the parameter it reached") {
  CompiledStep s;
  Trainer t = s.trainer(inOrder(0));
  auto h = t.fit(data(/*poisoned=*/true));
  REQUIRE_FALSE(h);
  CHECK(h.diag().message == "step 1: the loss is nan; the first parameter whose gradient is not "
                            "finite is 'C' (OnNonFinite::Skip skips such steps)");
  CHECK(*s.inPlace == 4); // both parameters, both steps: updated in place, never copied

  // What is left is what step 0 made.
  CompiledStep clean;
  Trainer once = clean.trainer(inOrder(1));
  REQUIRE_OK(once.fit(data(/*poisoned=*/false)));
  for (size_t i = 0; i < 2; ++i) {
    CHECK(identicalBits(t.params()[i], once.params()[i]));
    CHECK(identicalBits(t.state()[i], once.state()[i]));
  }
}

TEST_CASE("OnNonFinite::Skip leaves an in-place step's parameters and state unchanged") {
  CompiledStep s;
  Trainer t = s.trainer(inOrder(2, OnNonFinite::Skip)); // step 0, then the NaN step 1
  auto h = t.fit(data(/*poisoned=*/true));
  REQUIRE_OK(h);
  CHECK(h->skippedSteps == 1);
  CHECK(h->losses.size() == 1);
  CHECK(*s.inPlace == 4);

  CompiledStep clean;
  Trainer once = clean.trainer(inOrder(1));
  REQUIRE_OK(once.fit(data(/*poisoned=*/false)));
  for (size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    CHECK(identicalBits(t.params()[i], once.params()[i]));
    CHECK(identicalBits(t.state()[i], once.state()[i]));
  }

  // Training goes on from there: step 2 sees finite data again.
  Trainer more = s.trainer(inOrder(4, OnNonFinite::Skip));
  auto h4 = more.fit(data(/*poisoned=*/true));
  REQUIRE_OK(h4);
  CHECK(h4->skippedSteps == 1);
  CHECK(h4->losses.size() == 3);
  CHECK(std::isfinite(more.params()[1].getDouble(0)));
}

} // namespace train_NonFiniteStepTest
