// optimize-step: torch.optim's rules, schedules and clipping as one step function, checked
// against torch on the reference interpreter (fixtures: tests/data/optim/make_fixtures.py).
#include "OptimFixture.h"
#include "PassTestUtil.h"
#include "backends/reference/Interpreter.h"

namespace passes_OptimizeStepTest {

using namespace weft;

TEST_CASE("optimize-step matches torch.optim step by step on the reference interpreter") {
  const nlohmann::json &cases = optimtest::fixture()["cases"];
  REQUIRE(cases.size() >= 17);
  for (const nlohmann::json &c : cases) {
    auto m = optimtest::stepModule(c["options"].get<std::string>());
    ir::Function *step = m->function("model_step");
    REQUIRE(step != nullptr);
    REQUIRE(ir::verify(*m).isOk());
    optimtest::checkAgainstTorch(c, step->numParams() - 4, [&](std::span<const Array> in) {
      return reference::run(*step, in);
    });
  }
}

TEST_CASE("the step function takes params, state by parameter, batch, step; returns them so") {
  auto m = optimtest::stepModule("kind=adam");
  ir::Function *step = m->function("model_step");
  REQUIRE(step != nullptr);
  std::vector<std::string> names;
  for (size_t i = 0; i < step->numParams(); ++i)
    names.push_back(step->param(i)->name());
  CHECK(names == std::vector<std::string>{"W", "b", "W.exp_avg", "W.exp_avg_sq", "b.exp_avg",
                                          "b.exp_avg_sq", "X", "step"});
  std::vector<ir::Type> results = step->resultTypes();
  REQUIRE(results.size() == 9);
  CHECK(results[0].rank() == 0);
  for (size_t k = 0; k < 6; ++k) { // result 1 + k replaces parameter k, in place
    CHECK(results[1 + k] == step->param(k)->type());
    CHECK(step->aliases()[k] == ir::OutputAlias{1 + k, k});
  }
  CHECK(step->aliases().size() == 6);
  CHECK(results[7].rank() == 0);                    // W.grad_absmax
  CHECK(results[8].rank() == 0);                    // b.grad_absmax
  CHECK(m->function("model_step.grad") == nullptr); // the scratch gradient is gone
}

TEST_CASE("optimize-step leaves gradient functions and functions without a loss alone") {
  auto m = passes::test::parse(std::string(optimtest::kModel) +
                                   R"(func @model_grad(%W: tensor<f64>) -> (tensor<f64>) {
  return %W
}
func @no_loss(%W: tensor<2 x f64>) -> (tensor<2 x f64>) {
  return %W
}
)",
                               "funcs.wir");
  auto pass = passes::createPassByName("optimize-step");
  REQUIRE_OK(pass);
  CHECK(passes::test::runPass(**pass, *m));
  std::vector<std::string> names;
  for (const auto &f : m->functions())
    names.push_back(f->name());
  CHECK(names == std::vector<std::string>{"model", "model_grad", "no_loss", "model_step"});
  CHECK_FALSE(passes::test::runPass(**pass, *m)); // a second run adds nothing
}

TEST_CASE("bad optimize-step options and parameters are errors that name the problem") {
  auto pass = passes::createPassByName("optimize-step");
  REQUIRE_OK(pass);
  CHECK((*pass)->setOption("lr", "fast").message() ==
        "optimize-step option 'lr' needs a number, got 'fast'");
  CHECK((*pass)->setOption("kind", "lbfgs").message() ==
        "optimize-step kind is one of sgd, momentum, nesterov, rmsprop, adagrad, adam, adamw; "
        "got 'lbfgs'");
  CHECK((*pass)
            ->setOption("betas", "0.9")
            .message()
            .starts_with("pass 'optimize-step' has no option 'betas' (options: kind, lr,"));
  CHECK((*pass)->setOption("warmup", "-2").message() ==
        "optimize-step option 'warmup' needs a non-negative integer, got '-2'");

  struct Bad {
    const char *options, *message;
  };
  for (const Bad &bad : {
           Bad{"kind=nesterov momentum=0.9 dampening=0.5",
               "optimize-step kind=nesterov needs momentum > 0 and dampening = 0 (as torch's "
               "SGD)"},
           Bad{"kind=sgd schedule=cosine", "optimize-step schedule=cosine needs t_max > 0"},
           Bad{"kind=sgd params=W,Q", "optimize-step: @model has no parameter %Q to train"},
           Bad{"kind=sgd params=W,W", "optimize-step: parameter %W is listed twice in params"},
           Bad{"kind=adam beta2=1", "optimize-step beta1 and beta2 must lie in [0, 1), got 0.9 "
                                    "and 1"},
       }) {
    CAPTURE(std::string(bad.options));
    auto m = passes::test::parse(optimtest::kModel, "model.wir");
    std::ostringstream log;
    passes::PassManager pm(log);
    REQUIRE_OK(pm.addPipeline(fmt::format("optimize-step{{{}}}", bad.options)));
    Status s = pm.run(*m);
    REQUIRE_FALSE(s.isOk());
    CHECK(s.message() == std::string("pass 'optimize-step' (#1) failed: ") + bad.message);
  }
}

} // namespace passes_OptimizeStepTest
