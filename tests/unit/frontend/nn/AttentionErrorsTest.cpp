//===- tests/unit/frontend/nn/AttentionErrorsTest.cpp - attention mistakes, located -===//
//
// Each mistake throws a weft::Error at the caller's line naming the layer and the shapes.
//
//===----------------------------------------------------------------------===//
#include "ThrownMessage.h"
#include "frontend/Weft.h"
#include "frontend/nn/attention/Masks.h"
#include "frontend/nn/attention/MultiheadAttention.h"
#include "frontend/nn/attention/PositionalEncoding.h"
#include "frontend/nn/attention/ScaledDotProduct.h"

#include <doctest/doctest.h>

namespace frontend_nn_AttentionErrorsTest {

using namespace weft;

namespace {

/// Checks that `msg` points at this file and contains `what`.
void checkMessage(const std::string &msg, const std::string &what) {
  CAPTURE(msg);
  CHECK(msg.find("AttentionErrorsTest.cpp:") != std::string::npos);
  CHECK(msg.find(what) != std::string::npos);
}

} // namespace

TEST_CASE("scaledDotProductAttention: mismatched feature dims, key counts and mask dtypes are "
          "errors naming the shapes") {
  Graph g("sdpa");
  Tensor q = g.input("q", {2, 3, 4}), k = g.input("k", {2, 5, 4}), v = g.input("v", {2, 5, 6});
  checkMessage(testing::thrownMessage(
                   [&] { nn::scaledDotProductAttention(q, g.input("k3", {2, 5, 3}), v); }),
               "nn scaledDotProductAttention: q and k differ in their last (feature) dim: q "
               "[2, 3, 4], k [2, 5, 3], v [2, 5, 6]");
  checkMessage(testing::thrownMessage(
                   [&] { nn::scaledDotProductAttention(q, k, g.input("v4", {2, 4, 6})); }),
               "k and v differ in their number of keys (dim -2)");
  Tensor keep = g.input("keep", {3, 5}, DType::I1);
  checkMessage(
      testing::thrownMessage([&] { nn::scaledDotProductAttention(q, k, v, keep); }),
      "the mask is additive and must have the dtype of q (f32), got tensor<3 x 5 x i1>; see "
      "nn::additiveMask");
  // The additive form of the same mask is accepted.
  CHECK(nn::scaledDotProductAttention(q, k, v, nn::additiveMask(keep)).output.shape() ==
        Shape{2, 3, 6});
}

TEST_CASE("MultiheadAttention: heads that do not divide embed_dim and inputs of the wrong width "
          "are errors") {
  Graph g("mha");
  nn::Scope s(g, nn::Mode::Eval);
  checkMessage(testing::thrownMessage([&] { nn::MultiheadAttention(s.child("a"), 6, 4); }),
               "nn.MultiheadAttention 'a': embed_dim (6) must be a positive multiple of "
               "num_heads (4)");
  nn::MultiheadAttention mha(s.child("b"), 8, 2);
  Tensor x = g.input("x", {5, 2, 6});
  checkMessage(testing::thrownMessage([&] { mha(x, x, x); }),
               "nn.MultiheadAttention 'b': query, key and value must be f32 tensors [L, B, E = "
               "8], got tensor<5 x 2 x 6 x f32>");
}

TEST_CASE("masks and positions: lengths that are not integers and an odd d_model are errors") {
  Graph g("masks");
  checkMessage(testing::thrownMessage([&] { nn::lengthMask(g.input("len", {2}), 4); }),
               "nn lengthMask: lengths must be tensor<B x i32|i64>, got tensor<2 x f32>");
  checkMessage(testing::thrownMessage([&] { nn::sinusoidalPositions(4, 5); }),
               "nn sinusoidalPositions: d_model must be positive and even, got 5");
}

} // namespace frontend_nn_AttentionErrorsTest
