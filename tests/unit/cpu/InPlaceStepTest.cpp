//===- tests/unit/cpu/InPlaceStepTest.cpp - optimize-step updates in place ===//
//
// An Adam step built by optimize-step and the training passes declares every
// new parameter and state value an in-place update: the buffer plan computes
// each straight into its argument's buffer (no copy at the end), and
// Executable::runInPlace returns the caller's own arrays, updated, with the
// interpreter's values. A batch with a NaN leaves every carried value as it was.
//
//===----------------------------------------------------------------------===//
#include "analysis/BufferPlan.h"
#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <sstream>

namespace cpu_InPlaceStepTest {

using namespace weft;

namespace {

/// A two-layer tanh network with a squared error, in f32.
constexpr const char *kModel =
    R"(func @net(%W1: tensor<3 x 8 x f32>, %W2: tensor<8 x 1 x f32>, %x: tensor<B x 3 x f32>, %y: tensor<B x 1 x f32>) -> (tensor<f32>) {
  %h = matmul %x, %W1 : tensor<B x 8 x f32>
  %a = tanh %h : tensor<B x 8 x f32>
  %p = matmul %a, %W2 : tensor<B x 1 x f32>
  %d = sub %p, %y : tensor<B x 1 x f32>
  %d2 = mul %d, %d : tensor<B x 1 x f32>
  %l = reduce_mean %d2 {axes = [0, 1]} : tensor<f32>
  return %l
}
)";

std::unique_ptr<ir::Module> stepModule(const std::string &pipeline) {
  auto m = ir::parseModule(kModel, "net.wir");
  REQUIRE_OK(m);
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE_OK(pm.addPipeline(pipeline));
  REQUIRE_OK(pm.run(**m));
  return std::move(*m);
}

const char *const kTraining =
    "optimize-step{kind=adam lr=0.01 params=W1,W2},canonicalize,fuse-elementwise,dce";

/// The step's arguments: parameters from sin, zero state, a batch of 4, step `t`.
std::vector<Array> arguments(const ir::Function &step, int64_t t) {
  std::vector<Array> in;
  double k = 0;
  for (size_t i = 0; i + 1 < step.numParams(); ++i) {
    std::vector<int64_t> shape;
    for (const ir::Dim &d : step.param(i)->type().dims())
      shape.push_back(d.isStatic() ? d.size() : 4); // B = 4
    Array a(DType::F32, shape);
    if (step.param(i)->name().find('.') == std::string::npos)
      for (int64_t j = 0; j < a.numel(); ++j)
        a.setDouble(j, 0.8 * std::sin(0.7 * ++k));
    in.push_back(std::move(a));
  }
  in.push_back(Array::of<int64_t>({}, {t}));
  return in;
}

bool sameBits(const Array &a, const Array &b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

} // namespace

TEST_CASE("the buffer plan computes every new parameter and state value in its argument") {
  auto m = stepModule(kTraining);
  const ir::Function &step = *m->function("net_step");
  REQUIRE(step.aliases().size() == 6); // W1, W2 and their exp_avg, exp_avg_sq
  analysis::BufferPlan plan(step);
  for (const ir::OutputAlias &a : step.aliases()) {
    CAPTURE(step.param(a.param)->name());
    CHECK(plan.resultSlots()[a.result] == plan.paramSlots()[a.param]);
  }
  CHECK(plan.aliasCopies().empty()); // no value is computed elsewhere and copied in
}

TEST_CASE("runInPlace updates the caller's parameter and state arrays with the interpreter's "
          "values") {
  auto plain = stepModule("optimize-step{kind=adam lr=0.01 params=W1,W2}");
  auto m = stepModule(kTraining);
  const ir::Function &step = *m->function("net_step");
  auto exe = cpu::compile(*m);
  REQUIRE_OK(exe);
  for (int64_t t = 0; t < 2; ++t) {
    CAPTURE(t);
    std::vector<Array> in = arguments(step, t);
    auto want = reference::run(*plain->function("net_step"), in);
    REQUIRE_OK(want);
    std::vector<const void *> storage;
    for (const ir::OutputAlias &a : step.aliases())
      storage.push_back(in[a.param].data());
    auto got = (*exe)->runInPlace("net_step", in);
    REQUIRE_OK(got);
    REQUIRE(got->size() == want->size());
    for (size_t k = 0; k < step.aliases().size(); ++k) {
      const ir::OutputAlias &a = step.aliases()[k];
      CAPTURE(step.param(a.param)->name());
      CHECK((*got)[a.result].data() == storage[k]); // the very array passed in
      CHECK(in[a.param].data() == nullptr);         // moved out of the arguments
    }
    for (size_t r = 0; r < got->size(); ++r) {
      CAPTURE(r);
      for (int64_t j = 0; j < (*got)[r].numel(); ++j)
        CHECK((*got)[r].getDouble(j) ==
              doctest::Approx((*want)[r].getDouble(j)).epsilon(1e-5).scale(1e-6));
    }
  }
}

TEST_CASE("a step on a batch with a NaN leaves every parameter and state value as it was") {
  auto m = stepModule(kTraining);
  const ir::Function &step = *m->function("net_step");
  auto exe = cpu::compile(*m);
  REQUIRE_OK(exe);
  std::vector<Array> in = arguments(step, 3);
  for (size_t i = 0; i < step.numParams(); ++i)
    if (step.param(i)->name().find('.') != std::string::npos) // state: nonzero, to be kept
      for (int64_t j = 0; j < in[i].numel(); ++j)
        in[i].setDouble(j, 0.25);
  size_t x = 0;
  while (step.param(x)->name() != "x")
    ++x;
  in[x].setDouble(5, NAN);
  const std::vector<Array> before = in;
  auto got = (*exe)->runInPlace("net_step", in);
  REQUIRE_OK(got);
  CHECK(std::isnan((*got)[0].getDouble(0)));
  for (const ir::OutputAlias &a : step.aliases()) {
    CAPTURE(step.param(a.param)->name());
    CHECK(sameBits((*got)[a.result], before[a.param]));
  }
}

} // namespace cpu_InPlaceStepTest
