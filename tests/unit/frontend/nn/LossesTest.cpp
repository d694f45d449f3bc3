//===- tests/unit/frontend/nn/LossesTest.cpp - losses vs torch.nn.functional -===//
#include "frontend/nn/Losses.h"

#include "NnFixture.h"
#include "frontend/nn/Metrics.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>

namespace frontend_nn_LossesTest {

using namespace weft;
using testing::nnFixture;

namespace {

/// Checks a scalar loss and its gradient with respect to input "in" against fixture
/// `folder` (loss.npy, grad_<in>.npy); `build` declares the graph's inputs in `args` order.
/// (Declare the inputs in statements of their own: the order of a call's arguments is
/// unspecified, and the inputs' order is the function's.)
void checkLoss(const std::string &folder, const std::string &in,
               const std::function<Tensor(Graph &, DType)> &build,
               const std::vector<std::string> &argFiles) {
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtypeName(dt));
    Graph g(folder);
    g.output(build(g, dt));
    std::vector<Array> args;
    for (const std::string &f : argFiles)
      args.push_back(testing::floatsAs(dt, nnFixture(folder, f)));
    for (const auto &[backend, got] :
         testing::runWithGradients(g, {in}, args, testing::backendsFor(dt))) {
      CAPTURE(std::string(backend));
      testing::checkClose(got[0], nnFixture(folder, "loss"), dt);
      testing::checkClose(got[1], nnFixture(folder, "grad_" + in), dt);
    }
  }
}

} // namespace

TEST_CASE("mseLoss is torch's mse_loss") {
  checkLoss("mse", "pred",
            [](Graph &g, DType dt) {
              Tensor pred = g.input("pred", {4, 3}, dt);
              return nn::mseLoss(pred, g.input("target", {4, 3}, dt));
            },
            {"in_pred", "in_target"});
}

TEST_CASE("crossEntropy from logits is torch's cross_entropy, stable for logits near 80") {
  checkLoss("cross_entropy", "logits",
            [](Graph &g, DType dt) {
              Tensor logits = g.input("logits", {2, 5, 7}, dt);
              return nn::crossEntropy(logits, g.input("labels", {2, 5}, DType::I64));
            },
            {"in_logits", "labels"});
}

TEST_CASE("masked crossEntropy averages over the real tokens only (TF1 sequence_loss)") {
  checkLoss("cross_entropy_masked", "logits",
            [](Graph &g, DType dt) {
              Tensor logits = g.input("logits", {2, 5, 7}, dt);
              Tensor labels = g.input("labels", {2, 5}, DType::I64);
              return nn::crossEntropy(logits, labels, g.input("mask", {2, 5}, dt));
            },
            {"in_logits", "labels", "mask"});
}

TEST_CASE("masked crossEntropy: <PAD> positions get exactly zero gradient, an all-zero mask a "
          "zero loss") {
  Graph g("ce_pad");
  Tensor logits = g.input("logits", {2, 3});
  Tensor labelsIn = g.input("labels", {2}, DType::I32);
  g.output(nn::crossEntropy(logits, labelsIn, g.input("mask", {2}, DType::I1)));
  Array l = Array::of<float>({2, 3}, {1.f, 2.f, 3.f, 0.5f, -1.f, 4.f});
  Array labels = Array::of<int32_t>({2}, {2, 0});
  Array mask(DType::I1, {2});
  mask.setDouble(0, 1);
  mask.setDouble(1, 0);
  for (const auto &[backend, got] : testing::runWithGradients(g, {"logits"}, {l, labels, mask})) {
    CAPTURE(std::string(backend));
    for (int64_t j = 0; j < 3; ++j)
      CHECK(got[1].getDouble(3 + j) == 0.0);
    CHECK(got[1].getDouble(0) != 0.0);
  }
  mask.setDouble(0, 0);
  for (const auto &[backend, got] : testing::runForward(g, {l, labels, mask})) {
    CAPTURE(std::string(backend));
    CHECK(got[0].getDouble(0) == 0.0);
  }
}

TEST_CASE("bceWithLogits is torch's binary_cross_entropy_with_logits, stable at +-40") {
  checkLoss("bce_with_logits", "logits",
            [](Graph &g, DType dt) {
              Tensor logits = g.input("logits", {4, 3}, dt);
              return nn::bceWithLogits(logits, g.input("targets", {4, 3}, dt));
            },
            {"in_logits", "in_targets"});
}

TEST_CASE("l2Penalty sums the squares of every parameter; its gradient is 2 p") {
  Graph g("l2");
  Tensor a = g.param("a", {2}, init::zeros());
  Tensor b = g.param("b", {1, 2}, init::zeros());
  g.output(nn::l2Penalty({a, b}));
  std::vector<Array> args = {Array::of<float>({2}, {1.f, -2.f}),
                             Array::of<float>({1, 2}, {3.f, 0.5f})};
  for (const auto &[backend, got] : testing::runWithGradients(g, {"a", "b"}, args)) {
    CAPTURE(std::string(backend));
    CHECK(got[0].getDouble(0) == 1 + 4 + 9 + 0.25);
    CHECK(got[1].getDouble(1) == -4.0);
    CHECK(got[2].getDouble(0) == 6.0);
  }
}

TEST_CASE("crossEntropy and accuracy take one unbatched example: logits [C], a scalar label") {
  Graph g("ce_one");
  Tensor logits = g.input("logits", {3});
  Tensor label = g.input("label", {}, DType::I64);
  g.outputs({nn::crossEntropy(logits, label), nn::accuracy(logits, label)});
  Array l = Array::of<float>({3}, {1.f, 2.f, 0.5f});
  double want = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(0.5)) - 1.0;
  for (const auto &[backend, got] : testing::runForward(g, {l, Array::of<int64_t>({}, {0})})) {
    CAPTURE(std::string(backend));
    CHECK(got[0].getDouble(0) == doctest::Approx(want).epsilon(1e-6));
    CHECK(got[1].getDouble(0) == 0.0); // argmax is 1
  }
}

} // namespace frontend_nn_LossesTest
