// A training step with dropout seeded by the step counter (dropout_step.wir), compiled ahead of
// time by weftc: each step number draws its own mask, and the same step number the same mask,
// as the JIT's (tests/unit/train/DropoutStepTest.cpp). SGD with lr = 1 on mean(dropout(w))
// moves exactly the kept elements of w, so the mask is where w.new differs from w.
#include "dropout_step.h"
#include "runtime/train/AotFunction.h"

#include <doctest/doctest.h>

#include <vector>

using namespace weft;

namespace {

constexpr int64_t kWidth = 64;

std::vector<bool> maskAt(int64_t step) {
  std::vector<Array> args = {Array::of<float>({kWidth}, std::vector<float>(kWidth, 1.0f)),
                             Array::of<int64_t>({}, {step})};
  auto results = train::aotFunction(weft_drop_step_fn)(args);
  REQUIRE(results.isOk());
  std::vector<bool> kept;
  for (int64_t i = 0; i < kWidth; ++i)
    kept.push_back((*results)[1].getDouble(i) != 1.0);
  return kept;
}

} // namespace

TEST_CASE("a weftc-compiled step seeded by the step counter draws a new mask every step") {
  auto layout = train::aotStepLayout(weft_drop_step_fn);
  REQUIRE(layout.isOk());
  CHECK(layout->numArgs == 2); // w and the step counter, which the forward's %step became
  CHECK(layout->stepArg == 1);

  std::vector<bool> first = maskAt(0), second = maskAt(1);
  size_t kept = 0;
  for (bool k : first)
    kept += k;
  CHECK(kept > 0);
  CHECK(kept < size_t(kWidth));
  CHECK(first != second);
  CHECK(maskAt(1) == second); // a resumed run's step 1 draws what step 1 drew
}
