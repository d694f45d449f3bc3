//===- tests/unit/frontend/nn/DropoutTest.cpp - inverted dropout from a seed --===//
#include "frontend/nn/Dropout.h"

#include "RunBackends.h"
#include "ThrownMessage.h"
#include "frontend/Weft.h"
#include "passes/autodiff/Autodiff.h"

#include <doctest/doctest.h>

#include <cmath>

namespace frontend_nn_DropoutTest {

using namespace weft;

namespace {

constexpr int64_t kN = 4000;
constexpr double kP = 0.3;

Array seedValue(int64_t s) { return Array::of<int64_t>({}, {s}); }

Array ramp(int64_t n) {
  Array a(DType::F32, {n});
  for (int64_t i = 0; i < n; ++i)
    a.setDouble(i, 1.0 + static_cast<double>(i % 7));
  return a;
}

/// x [kN] through three dropout sites: one Dropout module called twice, then a dropout in a
/// sibling scope (the sites are counted across the scopes of one root).
struct TwoSites {
  std::unique_ptr<Graph> g = std::make_unique<Graph>("drop");
  explicit TwoSites(nn::Mode mode) {
    Tensor x = g->input("x", {kN});
    nn::Scope s = nn::Scope(*g, mode).withSeed(g->input("seed", {}, DType::I64));
    nn::Dropout drop(s.child("drop"), kP);
    g->outputs({drop(x), drop(x), nn::dropout(s.child("other"), x, kP)});
  }
};

/// Where y keeps x: y == x / (1 - p); everything else must be 0.
std::vector<bool> mask(const Array &x, const Array &y) {
  std::vector<bool> keep(static_cast<size_t>(x.numel()));
  int64_t misscaled = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    double scaled = x.getDouble(i) / (1 - kP);
    keep[static_cast<size_t>(i)] = y.getDouble(i) != 0.0;
    if (y.getDouble(i) != 0.0 && std::fabs(y.getDouble(i) - scaled) > 1e-6 * scaled)
      ++misscaled;
  }
  CHECK(misscaled == 0);
  return keep;
}

double keptFraction(const std::vector<bool> &keep) {
  double kept = 0;
  for (bool k : keep)
    kept += k;
  return kept / static_cast<double>(keep.size());
}

size_t differences(const std::vector<bool> &a, const std::vector<bool> &b) {
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i)
    n += a[i] != b[i];
  return n;
}

} // namespace

TEST_CASE("nn dropout keeps 1 - p of the elements, scaled by 1 / (1 - p), the same on both "
          "backends for one seed and different for another seed or another site") {
  TwoSites model(nn::Mode::Train);
  auto m = model.g->build();
  Array x = ramp(kN);
  std::vector<std::vector<bool>> bySeed[2];
  for (int seedIdx = 0; seedIdx < 2; ++seedIdx) {
    auto results = testing::runBackends(*m, {x, seedValue(41 + seedIdx)}, {});
    for (auto &[backend, byFn] : results) {
      CAPTURE(backend);
      const std::vector<Array> &y = byFn.at("drop");
      std::vector<bool> site0 = mask(x, y[0]), site1 = mask(x, y[1]), site2 = mask(x, y[2]);
      // Binomial(4000, 0.7): standard deviation 0.0072 of the fraction; 5 of them.
      for (const auto *site : {&site0, &site1, &site2})
        CHECK(std::fabs(keptFraction(*site) - (1 - kP)) < 0.036);
      // Independent masks differ at 2 p (1 - p) = 42% of the elements.
      CHECK(differences(site0, site1) > kN / 4);
      CHECK(differences(site0, site2) > kN / 4);
      CHECK(differences(site1, site2) > kN / 4);
      bySeed[seedIdx].push_back(site0);
    }
    CHECK(bySeed[seedIdx][0] == bySeed[seedIdx][1]); // interpreter == JIT
  }
  CHECK(differences(bySeed[0][0], bySeed[1][0]) > kN / 4);
}

TEST_CASE("nn dropout is the identity in eval mode and needs no seed there") {
  Graph g("drop");
  Tensor x = g.input("x", {kN});
  Tensor y = nn::dropout(nn::Scope(g, nn::Mode::Eval), x, kP);
  CHECK(y.value() == x.value());
  TwoSites model(nn::Mode::Eval);
  auto m = model.g->build();
  Array xv = ramp(kN);
  for (auto &[backend, byFn] : testing::runBackends(*m, {xv, seedValue(1)}, {})) {
    CAPTURE(backend);
    for (const Array &out : byFn.at("drop")) {
      int64_t changed = 0;
      for (int64_t i = 0; i < kN; ++i)
        changed += out.getDouble(i) != xv.getDouble(i);
      CHECK(changed == 0);
    }
  }
}

TEST_CASE("nn dropout's gradient goes through the same mask, scaled the same") {
  Graph g("drop");
  Tensor x = g.param("x", {kN}, init::zeros());
  Tensor r = g.input("r", {kN});
  nn::Scope s = nn::Scope(g, nn::Mode::Train).withSeed(g.input("seed", {}, DType::I64));
  Tensor y = nn::dropout(s, x, kP);
  g.outputs({sum(y * r, {0}), y});
  auto m = g.build();
  autodiff::GradOptions opts;
  opts.wrt = {"x"};
  opts.keepResults = true;
  auto grad = autodiff::buildGradient(*m, *m->functions()[0], opts);
  REQUIRE_OK(grad);
  Array xv = ramp(kN), rv = ramp(kN);
  for (int64_t i = 0; i < kN; ++i)
    rv.setDouble(i, 0.5 - static_cast<double>(i % 5));
  auto out = reference::run(**grad, g.arguments({rv, seedValue(9)}, {xv}), {});
  REQUIRE_OK(out);
  REQUIRE(out->size() == 3); // loss, y, dloss/dx
  const Array &yv = (*out)[1], &dx = (*out)[2];
  std::vector<bool> keep = mask(xv, yv);
  int64_t wrong = 0;
  for (int64_t i = 0; i < kN; ++i) {
    double want = keep[static_cast<size_t>(i)] ? rv.getDouble(i) / (1 - kP) : 0.0;
    wrong += std::fabs(dx.getDouble(i) - want) > 1e-6 * (1 + std::fabs(want));
  }
  CHECK(wrong == 0);
}

TEST_CASE("nn dropout refuses a probability outside [0, 1] and training without a seed") {
  Graph g("drop");
  Tensor x = g.input("x", {4});
  nn::Scope train(g, nn::Mode::Train);
  std::string msg = testing::thrownMessage([&] { nn::dropout(train, x, 1.5); });
  CHECK(msg.find("DropoutTest.cpp:") != std::string::npos);
  CHECK(msg.find("DropoutTest.cpp:") < msg.find("must be in [0, 1], got 1.5"));
  CHECK_THROWS_WITH_AS(nn::dropout(train.child("enc"), x, 0.5),
                       doctest::Contains("dropout in 'enc': training mode needs a seed"), Error);
  CHECK_THROWS_WITH_AS(train.withSeed(g.input("s", {}, DType::I32)),
                       doctest::Contains("the seed must be a tensor<i64> scalar"), Error);
}

TEST_CASE("nn dropout with p = 0 is the identity and with p = 1 gives zeros, with no seed") {
  Graph g("drop");
  Tensor x = g.input("x", {4});
  nn::Scope train(g, nn::Mode::Train);
  CHECK(nn::dropout(train, x, 0.0).value() == x.value());
  g.output(nn::dropout(train, x, 1.0));
  auto m = g.build();
  std::vector<Array> in{Array::of<float>({4}, {1, 2, 3, 4})};
  auto out = reference::run(*m->functions()[0], in, {});
  REQUIRE_OK(out);
  for (int64_t i = 0; i < 4; ++i)
    CHECK((*out)[0].getDouble(i) == 0.0);
}

TEST_CASE("nn stepSeed called twice reads the graph's one %step, each call with its own seed") {
  Graph g("seeds");
  g.input("x", {4});
  Tensor a = nn::stepSeed(g, 7), b = nn::stepSeed(g, 8);
  g.outputs({a, b});
  auto m = g.build();
  const ir::Function &f = *m->functions()[0];
  REQUIRE(f.numParams() == 2); // %x and one %step
  CHECK(f.param(1)->name() == "step");
  std::vector<Array> in{Array::of<float>({4}, {1, 2, 3, 4}), seedValue(3)};
  auto out = reference::run(f, in, {});
  REQUIRE_OK(out);
  CHECK((*out)[0].getInt(0) == 3 * (int64_t(1) << 32) + 7);
  CHECK((*out)[1].getInt(0) == 3 * (int64_t(1) << 32) + 8);
}

TEST_CASE("nn stepSeed refuses a %step input of another type, at the caller's line") {
  Graph g("seeds");
  g.input("step", {}, DType::I32);
  std::string msg = testing::thrownMessage([&] { nn::stepSeed(g, 7); });
  CHECK(msg.find("DropoutTest.cpp:") != std::string::npos);
  CHECK(msg.find("stepSeed: graph 'seeds' has an input 'step' of type tensor<i32>, but the step "
                 "counter is a tensor<i64> scalar") != std::string::npos);
}

} // namespace frontend_nn_DropoutTest
