// optimize-step's step functions, JIT-compiled, match torch.optim step by step (the
// reference-interpreter half of this check is tests/unit/passes/OptimizeStepTest.cpp).
#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "tests/unit/LstmIr.h"
#include "tests/unit/passes/OptimFixture.h"

#include <cmath>

namespace cpu_OptimizeStepJitTest {

using namespace weft;

TEST_CASE("JIT-compiled optimize-step matches torch.optim step by step") {
  const nlohmann::json &cases = optimtest::fixture()["cases"];
  REQUIRE(cases.size() >= 17);
  for (const nlohmann::json &c : cases) {
    auto m = optimtest::stepModule(c["options"].get<std::string>());
    size_t numState = m->function("model_step")->numParams() - 4;
    auto exe = cpu::compile(*m);
    REQUIRE_OK(exe);
    optimtest::checkAgainstTorch(
        c, numState, [&](std::span<const Array> in) { return (*exe)->run("model_step", in); });
  }
}

namespace {

/// An LSTM layer (gates [x, h] . W + bias) with a loss on every hidden state, in f64.
std::string lstmModel() {
  return R"(func @lstm(%xs: tensor<6 x B x 3 x f64>, %W: tensor<7 x 16 x f64>, %bias: tensor<16 x f64>, %r: tensor<6 x B x 4 x f64>) -> (tensor<f64>) {
  %zero = constant {value = [0.0]} : tensor<B x 4 x f64>
  %hT, %cT, %hs = scan carry(%zero, %zero) over(%xs) {
  ^body(%h: tensor<B x 4 x f64>, %c: tensor<B x 4 x f64>, %x: tensor<B x 3 x f64>):
)" +
         testing::lstmStep(
             {.input = 3, .hidden = 4, .gates = testing::LstmGates::ConcatBias, .dtype = "f64"}) +
         R"(    yield %h2, %c2, %h2
  } : tensor<B x 4 x f64>, tensor<B x 4 x f64>, tensor<6 x B x 4 x f64>
  %w = mul %hs, %r : tensor<6 x B x 4 x f64>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<f64>
  return %l
}
)";
}

std::unique_ptr<ir::Module> lstmStep(const std::string &pipeline) {
  auto m = ir::parseModule(lstmModel(), "lstm.wir");
  REQUIRE_OK(m);
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE_OK(pm.addPipeline(pipeline));
  REQUIRE_OK(pm.run(**m));
  return std::move(*m);
}

} // namespace

TEST_CASE("an LSTM's Adam step through the training passes, JIT-compiled, is the interpreter's") {
  const std::string step =
      "optimize-step{kind=adam lr=0.05 params=W,bias clip_norm=1 warmup=2 schedule=cosine "
      "t_max=10}";
  auto plain = lstmStep(step);
  auto trained = lstmStep(
      step + ",hoist-weight-gradients,licm,simplify,fold-constants,cse,dce,fuse-elementwise,dce");
  const ir::Function &f = *plain->function("lstm_step");
  auto exe = cpu::compile(*trained);
  REQUIRE_OK(exe);

  std::vector<Array> in; // W, bias, 4 state tensors (zeros), xs, r, step
  double k = 0;
  for (size_t i = 0; i + 1 < f.numParams(); ++i) {
    std::vector<int64_t> shape;
    for (const ir::Dim &d : f.param(i)->type().dims())
      shape.push_back(d.isStatic() ? d.size() : 2); // B = 2
    Array a(DType::F64, shape);
    if (f.param(i)->name().find('.') == std::string::npos)
      for (int64_t j = 0; j < a.numel(); ++j)
        a.setDouble(j, 0.7 * std::sin(0.9 * ++k));
    in.push_back(std::move(a));
  }
  in.push_back(Array::of<int64_t>({}, {0}));
  for (int64_t t = 0; t < 3; ++t) {
    CAPTURE(t);
    in.back() = Array::of<int64_t>({}, {t});
    auto want = reference::run(f, in);
    REQUIRE_OK(want);
    auto got = (*exe)->run("lstm_step", in);
    REQUIRE_OK(got);
    REQUIRE(got->size() == 9); // loss, W, bias, 4 state tensors, 2 gradient maxima
    for (size_t r = 0; r < got->size(); ++r)
      for (int64_t j = 0; j < (*got)[r].numel(); ++j) {
        CAPTURE(r);
        CHECK((*got)[r].getDouble(j) == doctest::Approx((*want)[r].getDouble(j)).epsilon(1e-9));
      }
    for (size_t r = 1; r < 7; ++r) // new params and state feed the next step
      in[r - 1] = (*want)[r];
  }
}

} // namespace cpu_OptimizeStepJitTest
