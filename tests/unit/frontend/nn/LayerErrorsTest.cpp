//===- tests/unit/frontend/nn/LayerErrorsTest.cpp - bad input to nn layers -===//
//
// A layer or loss given the wrong rank or shape throws weft::Error located at the user's line
// (this file's), naming the layer and both shapes.
//
//===----------------------------------------------------------------------===//
#include "frontend/Weft.h"
#include "frontend/nn/BatchNorm.h"
#include "frontend/nn/Embedding.h"
#include "frontend/nn/LayerNorm.h"
#include "frontend/nn/Linear.h"
#include "frontend/nn/Losses.h"
#include "frontend/nn/Metrics.h"
#include "frontend/nn/Residual.h"

#include <doctest/doctest.h>

#include <functional>
#include <string>

namespace frontend_nn_LayerErrorsTest {

using namespace weft;

namespace {

/// Runs `f`, which must throw weft::Error at LayerErrorsTest.cpp:<line>, and checks that the
/// message holds every one of `parts`.
void checkError(int line, const std::function<void()> &f, std::vector<std::string> parts) {
  std::string msg;
  try {
    f();
  } catch (const Error &e) {
    msg = e.what();
  }
  CAPTURE(msg);
  REQUIRE_FALSE(msg.empty());
  CHECK(msg.find("LayerErrorsTest.cpp:" + std::to_string(line) + ": ") != std::string::npos);
  for (const std::string &p : parts)
    CHECK(msg.find(p) != std::string::npos);
}

} // namespace

// Each failing call sits on the line checkError expects: one line per case, unformatted.
// clang-format off

TEST_CASE("nn layers name themselves and both shapes at the caller's line") {
  Graph g("bad");
  nn::Scope s(g, nn::Mode::Train);
  Tensor x = g.input("x", {8, 3});
  Tensor x3 = g.input("x3", {8, 3, 2});
  Tensor ids = g.input("ids", {8}, DType::I64);
  checkError(__LINE__, [&] { nn::linear(s.child("fc"), x, 4, 5); }, {"nn.Linear 'fc'", "[8, 3]", "in_features = 4", "[5, 4]"});
  checkError(__LINE__, [&] { nn::batchNorm1d(s.child("bn"), x, 4); }, {"nn.BatchNorm1d 'bn'", "[8, 3]", "num_features = 4"});
  checkError(__LINE__, [&] { nn::batchNorm1d(s.child("bn3"), x3, 3); }, {"nn.BatchNorm1d 'bn3'", "[8, 3, 2]"});
  checkError(__LINE__, [&] { nn::layerNorm(s.child("ln"), x, {4}); }, {"nn.LayerNorm 'ln'", "[8, 3]", "normalized_shape [4]"});
  checkError(__LINE__, [&] { nn::embedding(s.child("emb"), x, 10, 4); }, {"nn.Embedding 'emb'", "integers", "f32 [8, 3]"});
  checkError(__LINE__, [&] { nn::embedding(s.child("emb2"), ids, 10, 4, nn::EmbeddingOptions().withPaddingIdx(10)); }, {"nn.Embedding 'emb2'", "padding_idx 10", "10 rows"});
  checkError(__LINE__, [&] { nn::residual(x, [&](const Tensor &t) { return nn::linear(s.child("up"), t, 3, 6); }); }, {"residual", "tensor<8 x 3 x f32>", "tensor<8 x 6 x f32>"});
  CHECK(g.params().size() == 2); // only up.weight and up.bias were declared before an error
}

TEST_CASE("batch norm in training refuses a batch of one") {
  Graph g("bad");
  nn::Scope s(g, nn::Mode::Train);
  Tensor x = g.input("x", {1, 3});
  checkError(__LINE__, [&] { nn::batchNorm1d(s, x, 3); }, {"nn.BatchNorm1d", "more than one", "[1, 3]"});
}

TEST_CASE("losses and accuracy name themselves and both shapes at the caller's line") {
  Graph g("bad");
  Tensor logits = g.input("logits", {4, 6, 10});
  Tensor labels = g.input("labels", {4, 5}, DType::I64);
  Tensor goodLabels = g.input("good", {4, 6}, DType::I64);
  Tensor flabels = g.input("flabels", {4, 6});
  Tensor mask = g.input("mask", {4, 5, 1});
  Tensor pred = g.input("pred", {4, 6});
  Tensor target = g.input("target", {6, 4});
  checkError(__LINE__, [&] { nn::crossEntropy(logits, labels); }, {"cross_entropy", "labels [4, 5]", "logits [4, 6, 10]"});
  checkError(__LINE__, [&] { nn::crossEntropy(logits, flabels); }, {"cross_entropy", "labels must be integers", "tensor<4 x 6 x f32>"});
  checkError(__LINE__, [&] { nn::crossEntropy(logits, goodLabels, mask); }, {"cross_entropy", "mask [4, 5, 1]", "labels [4, 6]"});
  checkError(__LINE__, [&] { nn::accuracy(logits, labels); }, {"accuracy", "[4, 5]", "[4, 6, 10]"});
  checkError(__LINE__, [&] { nn::mseLoss(pred, target); }, {"mse_loss", "tensor<4 x 6 x f32>", "tensor<6 x 4 x f32>"});
  checkError(__LINE__, [&] { nn::bceWithLogits(pred, target); }, {"binary_cross_entropy_with_logits", "tensor<4 x 6 x f32>", "tensor<6 x 4 x f32>"});
}

} // namespace frontend_nn_LayerErrorsTest

// clang-format on
