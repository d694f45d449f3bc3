//===- tests/unit/frontend/nn/GradCheckTest.cpp - nn layers vs finite differences -===//
//
// The composite layers in f64, their autodiff gradients against central differences
// (tests/unit/autodiff/GradCheck.h), on inputs the PyTorch fixtures do not cover: other
// shapes, a deeper stack with every parameter, masks with fractional weights.
//
//===----------------------------------------------------------------------===//
#include "tests/unit/autodiff/GradCheck.h"

#include "frontend/Weft.h"
#include "frontend/nn/Activations.h"
#include "frontend/nn/BatchNorm.h"
#include "frontend/nn/LayerNorm.h"
#include "frontend/nn/Linear.h"
#include "frontend/nn/Losses.h"
#include "frontend/nn/Residual.h"
#include "ir/Printer.h"

#include <doctest/doctest.h>

namespace frontend_nn_GradCheckTest {

using namespace weft;

namespace {

/// The IR text of `g` (first result: the f64 scalar loss) for checkGradients.
std::string irOf(const Graph &g) { return ir::print(*g.build()); }

} // namespace

TEST_CASE("an MLP of linear, layerNorm, gelu, selu, elu and a residual block: gradients match "
          "finite differences") {
  Graph g("mlp");
  nn::Scope s(g, nn::Mode::Train);
  Tensor x = g.input("x", {3, 4}, DType::F64);
  Tensor target = g.input("target", {3, 2}, DType::F64);
  Tensor h = nn::gelu(nn::linear(s.child("fc1"), x, 4, 5));
  h = nn::layerNorm(s.child("ln"), h, {5});
  h = nn::residual(
      h, [&](const Tensor &t) { return nn::selu(nn::linear(s.child("block"), t, 5, 5)); });
  h = nn::elu(nn::gelu(h, nn::GeluApprox::Tanh), 0.5);
  g.output(nn::mseLoss(nn::linear(s.child("fc2"), h, 5, 2), target));
  testing::checkGradients({irOf(g),
                           {"x", "fc1.weight", "fc1.bias", "ln.weight", "ln.bias", "block.weight",
                            "block.bias", "fc2.weight"}});
}

TEST_CASE("batchNorm1d in training: gradients through the batch statistics match finite "
          "differences") {
  Graph g("bn");
  nn::Scope s(g, nn::Mode::Train);
  Tensor x = g.input("x", {5, 3}, DType::F64);
  Tensor r = g.input("r", {5, 3}, DType::F64);
  nn::BatchNormResult out = nn::batchNorm1d(s.child("bn"), x, 3);
  g.outputs({sum(mul(out.y, out.y), {0, 1}) + sum(mul(out.y, r), {0, 1}), out.runningVar});
  testing::checkGradients({irOf(g), {"x", "bn.weight", "bn.bias"}});
}

TEST_CASE("masked cross-entropy, BCE with logits and the L2 penalty: gradients match finite "
          "differences") {
  Graph g("losses");
  Tensor logits = g.input("logits", {2, 3, 4}, DType::F64);
  Tensor labels = g.input("labels", {2, 3}, DType::I64);
  Tensor mask = g.input("mask", {2, 3}, DType::F64);
  Tensor z = g.input("z", {2, 3}, DType::F64);
  Tensor y = g.input("y", {2, 3}, DType::F64);
  g.output(nn::crossEntropy(logits, labels, mask) + nn::bceWithLogits(z, y) +
           At(nn::l2Penalty({logits, z})) * 0.01);
  Array lab = Array::of<int64_t>({2, 3}, {0, 3, 1, 2, 2, 0});
  Array m = Array::of<double>({2, 3}, {1, 1, 0, 1, 0.5, 1});
  testing::checkGradients({irOf(g), {"logits", "z"}, -2.0, 2.0, {{"labels", lab}, {"mask", m}}});
}

} // namespace frontend_nn_GradCheckTest
