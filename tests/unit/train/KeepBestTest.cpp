#include "runtime/train/KeepBest.h"

#include "runtime/train/Trainer.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>

namespace train_KeepBestTest {

using namespace weft;
using namespace weft::train;

namespace {

/// A step that adds 1 to its one parameter w: after epoch e (one batch per epoch), w = e + 1.
Function countingStep() {
  return [](std::span<const Array> a) -> Expected<std::vector<Array>> {
    return std::vector<Array>{Array::of<float>({}, {0.0f}),
                              Array::of<float>({}, {a[0].data<float>()[0] + 1.0f})};
  };
}

/// Held-out metrics that are a function of w alone: the value `byW[w]`, as "score".
Evaluation scriptedEvaluation(std::vector<double> byW) {
  Evaluation e;
  e.numArgs = 2;
  e.paramArgs = {0};
  e.batch = {{"x", 1}};
  e.metrics = {"other", "score"};
  e.function = [byW](std::span<const Array> a) -> Expected<std::vector<Array>> {
    auto w = static_cast<size_t>(a[0].data<float>()[0]);
    return std::vector<Array>{Array::of<double>({}, {0.0}), Array::of<double>({}, {byW.at(w)})};
  };
  return e;
}

Dataset fourExamples() {
  Dataset d;
  d.add("x", Array::of<float>({4}, {1, 2, 3, 4})).check();
  return d;
}

/// Sets o.keepBest out of line: inlined where `o` is defined, GCC 12 at -O3 takes the
/// disengaged optional's string for maybe uninitialized (-Wmaybe-uninitialized, a false
/// positive seen when KeepBestTest shares a unity batch).
[[gnu::noinline]] void setKeepBest(TrainOptions &o, std::optional<KeepBest> keep) {
  o.keepBest = std::move(keep);
}

/// Trains the counting step for four epochs, judged by `byW`; the history and the final w.
std::pair<History, float> fitFourEpochs(std::optional<KeepBest> keep, std::vector<double> byW) {
  TrainOptions o;
  o.epochs = 4;
  o.batching = {.batchSize = 4, .shuffle = false, .dropLast = false, .seed = 1};
  o.progress = Progress::Off;
  setKeepBest(o, std::move(keep));
  StepLayout l;
  l.numArgs = 2;
  l.params = {{"w", 0, 1, std::nullopt}};
  l.batch = {{"x", 1}};
  auto t = Trainer::make(countingStep(), l, {Array::of<float>({}, {0.0f})}, {}, o);
  REQUIRE_OK(t);
  t->evaluateWith(scriptedEvaluation(std::move(byW)));
  Dataset d = fourExamples();
  auto h = t->fit(d, &d);
  REQUIRE_OK(h);
  return {*h, t->params()[0].data<float>()[0]};
}

} // namespace

TEST_CASE("keep-best ends fit with the parameters of the epoch whose held-out metric was best") {
  // w after epochs 1..4 is 1..4; the score of w: 5, 2, 3, 2.
  const std::vector<double> byW = {0, 5, 2, 3, 2};
  auto [last, lastW] = fitFourEpochs(std::nullopt, byW);
  CHECK(lastW == 4.0f);
  CHECK_FALSE(last.bestEpoch);

  auto [lower, lowerW] = fitFourEpochs(KeepBest{"score", KeepBest::Better::Lower}, byW);
  CHECK(lowerW == 2.0f); // epoch 2's (w = 2); epoch 4 ties it and the earlier one stays
  REQUIRE(lower.bestEpoch);
  CHECK(*lower.bestEpoch == 1);

  auto [higher, higherW] = fitFourEpochs(KeepBest{"score", KeepBest::Better::Higher}, byW);
  CHECK(higherW == 1.0f);
  CHECK(higher.bestEpoch == std::optional<int64_t>(0));
}

TEST_CASE("keep-best refuses a metric the evaluation lacks, naming those it has") {
  auto b = BestEpoch::make(KeepBest{"accuracy", KeepBest::Better::Higher}, {"loss", "score"});
  REQUIRE_FALSE(b);
  CHECK(b.diag().str().find("no metric 'accuracy' (it has: loss, score)") != std::string::npos);
}

TEST_CASE("keep-best without held-out data is an error, not a silent last epoch") {
  TrainOptions o;
  o.epochs = 1;
  o.batching = {.batchSize = 4, .shuffle = false, .dropLast = false, .seed = 1};
  o.progress = Progress::Off;
  o.keepBest = KeepBest{};
  StepLayout l;
  l.numArgs = 2;
  l.params = {{"w", 0, 1, std::nullopt}};
  l.batch = {{"x", 1}};
  auto t = Trainer::make(countingStep(), l, {Array::of<float>({}, {0.0f})}, {}, o);
  REQUIRE_OK(t);
  t->evaluateWith(scriptedEvaluation({0, 1}));
  auto h = t->fit(fourExamples());
  REQUIRE_FALSE(h);
  CHECK(h.diag().str().find("keep-best needs held-out data") != std::string::npos);
}

TEST_CASE("a NaN metric never wins an epoch") {
  auto b = BestEpoch::make(KeepBest{}, {"loss"});
  REQUIRE_OK(b);
  std::vector<Array> p{Array::of<float>({}, {1.0f})};
  CHECK_FALSE(b->offer(0, {std::nan("")}, p));
  CHECK_FALSE(b->epoch());
  CHECK(b->offer(1, {0.5}, p));
  CHECK_FALSE(b->offer(2, {std::nan("")}, p));
  CHECK(b->epoch() == std::optional<int64_t>(1));
}

} // namespace train_KeepBestTest
