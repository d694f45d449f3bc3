//===- tests/unit/passes/OptimFixture.h - optimize-step vs torch.optim ----===//
//
// The cases of tests/data/optim/expected.json (written by make_fixtures.py with
// torch.optim): a small f64 model, its batches, and per case the optimize-step
// options and torch's loss and parameters after each step. checkAgainstTorch
// runs the step function that many times through a runner (the reference
// interpreter, the CPU JIT) and compares.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"
#include "runtime/Array.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace weft::optimtest {

/// loss = sum(W * W + X * W) + sum(b * b), as in make_fixtures.py.
inline const char *const kModel =
    R"(func @model(%W: tensor<2 x 3 x f64>, %b: tensor<3 x f64>, %X: tensor<2 x 3 x f64>) -> (tensor<f64>) {
  %ww = mul %W, %W : tensor<2 x 3 x f64>
  %xw = mul %X, %W : tensor<2 x 3 x f64>
  %s = add %ww, %xw : tensor<2 x 3 x f64>
  %l1 = reduce_sum %s {axes = [0, 1]} : tensor<f64>
  %bb = mul %b, %b : tensor<3 x f64>
  %l2 = reduce_sum %bb {axes = [0]} : tensor<f64>
  %l = add %l1, %l2 : tensor<f64>
  return %l
}
)";

inline const nlohmann::json &fixture() {
  static const nlohmann::json j = [] {
    std::ifstream in(WEFT_TEST_DATA_DIR "/optim/expected.json");
    REQUIRE_MESSAGE(in.good(), "cannot read tests/data/optim/expected.json");
    return nlohmann::json::parse(in);
  }();
  return j;
}

/// The module with @model and @model_step built by optimize-step{options params=W,b}.
inline std::unique_ptr<ir::Module> stepModule(const std::string &options) {
  auto m = ir::parseModule(kModel, "model.wir");
  REQUIRE_OK(m);
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE_OK(pm.addPipeline(fmt::format("optimize-step{{{} params=W,b}}", options)));
  REQUIRE_OK(pm.run(**m));
  return std::move(*m);
}

inline Array f64Array(std::vector<int64_t> shape, const nlohmann::json &values) {
  return Array::of<double>(std::move(shape), values.get<std::vector<double>>());
}

using Runner = std::function<Expected<std::vector<Array>>(std::span<const Array>)>;

/// Runs @model_step (parameters W, b, `numState` state tensors, X, step) for every step of
/// `c` from torch's initial values and zero state, and checks the loss and the parameters
/// after each step against torch's within a relative 1e-6 (all in f64).
inline void checkAgainstTorch(const nlohmann::json &c, size_t numState, const Runner &run) {
  const nlohmann::json &fx = fixture();
  CAPTURE(c["name"].get<std::string>());
  Array W = f64Array({2, 3}, fx["W0"]), b = f64Array({3}, fx["b0"]);
  std::vector<Array> state;
  for (size_t s = 0; s < numState; ++s) // parameter by parameter: W's slots, then b's
    state.push_back(
        Array(DType::F64, s < numState / 2 ? std::vector<int64_t>{2, 3} : std::vector<int64_t>{3}));
  const nlohmann::json &steps = c["steps"];
  for (size_t t = 0; t < steps.size(); ++t) {
    CAPTURE(t);
    std::vector<Array> in{W, b};
    in.insert(in.end(), state.begin(), state.end());
    in.push_back(f64Array({2, 3}, fx["batches"][t]));
    in.push_back(Array::of<int64_t>({}, {static_cast<int64_t>(t)}));
    auto out = run(in);
    REQUIRE_OK(out);
    REQUIRE(out->size() == 3 + numState + 2); // ..., W.grad_absmax, b.grad_absmax
    CHECK((*out)[0].getDouble(0) == doctest::Approx(steps[t]["loss"].get<double>()).epsilon(1e-6));
    // The model's gradients are 2 W + X and 2 b: the largest absolute elements come back.
    double gW = 0, gb = 0;
    for (int64_t i = 0; i < W.numel(); ++i)
      gW = std::max(gW, std::fabs(2 * W.getDouble(i) + in[in.size() - 2].getDouble(i)));
    for (int64_t i = 0; i < b.numel(); ++i)
      gb = std::max(gb, std::fabs(2 * b.getDouble(i)));
    CHECK((*out)[3 + numState].getDouble(0) == doctest::Approx(gW).epsilon(1e-12));
    CHECK((*out)[4 + numState].getDouble(0) == doctest::Approx(gb).epsilon(1e-12));
    W = (*out)[1];
    b = (*out)[2];
    for (size_t s = 0; s < numState; ++s)
      state[s] = (*out)[3 + s];
    std::vector<double> wantW = steps[t]["W"], wantB = steps[t]["b"];
    for (int64_t i = 0; i < W.numel(); ++i)
      CHECK(W.getDouble(i) == doctest::Approx(wantW[i]).epsilon(1e-6));
    for (int64_t i = 0; i < b.numel(); ++i)
      CHECK(b.getDouble(i) == doctest::Approx(wantB[i]).epsilon(1e-6));
  }
}

} // namespace weft::optimtest
