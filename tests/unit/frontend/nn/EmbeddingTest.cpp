//===- tests/unit/frontend/nn/EmbeddingTest.cpp - nn::embedding -----------===//
#include "frontend/nn/Embedding.h"

#include "NnFixture.h"

#include <doctest/doctest.h>

#include <cmath>

namespace frontend_nn_EmbeddingTest {

using namespace weft;
using testing::nnFixture;

TEST_CASE("nn::embedding looks up rows as torch.nn.Embedding and the padding row gets no "
          "gradient") {
  auto fx = [](const char *name) { return nnFixture("embedding", name); };
  Graph g("embedding");
  nn::Scope emb = nn::Scope(g, nn::Mode::Train).child("emb");
  Tensor idx = g.input("idx", {2, 5}, DType::I64);
  Tensor r = g.input("r", {2, 5, 3});
  Tensor y = nn::embedding(emb, idx, 6, 3, nn::EmbeddingOptions().withPaddingIdx(0));
  g.outputs({testing::dotWith(y, r), y});
  REQUIRE(g.params().size() == 1);
  CHECK(g.params()[0].name == "emb.weight");
  // The fixture's pad row is nonzero: the output there is the row, but no gradient reaches it.
  std::vector<Array> args = g.arguments({fx("idx"), fx("r")}, {fx("in_weight")});
  for (const auto &[backend, got] : testing::runWithGradients(g, {"emb.weight"}, args)) {
    CAPTURE(std::string(backend));
    testing::checkClose(got[1], fx("y"), DType::F32);
    testing::checkClose(got[2], fx("grad_weight"), DType::F32);
    for (int64_t j = 0; j < 3; ++j) {
      CAPTURE(j);
      CHECK(got[2].getDouble(j) == 0.0);     // row 0, the padding index: exactly zero
      CHECK(got[2].getDouble(3 + j) != 0.0); // row 1, used twice
    }
  }
}

TEST_CASE("nn::embedding's default table is N(0, 1) with the padding row zero") {
  Graph g("embedding_init");
  nn::Scope s(g, nn::Mode::Train);
  nn::embedding(s, g.input("idx", {4}, DType::I32), 200, 50,
                nn::EmbeddingOptions().withPaddingIdx(-1));
  Array w = g.initParams(9)[0];
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < 199 * 50; ++i) {
    sum += w.getDouble(i);
    sq += w.getDouble(i) * w.getDouble(i);
  }
  double n = 199 * 50, mean = sum / n;
  CHECK(std::abs(mean) < 0.05);
  CHECK(std::sqrt(sq / n - mean * mean) == doctest::Approx(1.0).epsilon(0.05));
  for (int64_t j = 0; j < 50; ++j)
    CHECK(w.getDouble(199 * 50 + j) == 0.0); // padding_idx -1 is row 199
}

} // namespace frontend_nn_EmbeddingTest
