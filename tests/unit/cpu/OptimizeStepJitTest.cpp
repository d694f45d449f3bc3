// optimize-step's step functions, JIT-compiled, match torch.optim step by step (the
// reference-interpreter half of this check is tests/unit/passes/OptimizeStepTest.cpp).
#include "backends/cpu/CpuBackend.h"
#include "tests/unit/passes/OptimFixture.h"

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
