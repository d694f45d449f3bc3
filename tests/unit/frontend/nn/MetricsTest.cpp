//===- tests/unit/frontend/nn/MetricsTest.cpp - accuracy ------------------===//
#include "frontend/nn/Metrics.h"

#include "NnFixture.h"

#include <doctest/doctest.h>

namespace frontend_nn_MetricsTest {

using namespace weft;
using testing::nnFixture;

TEST_CASE("accuracy counts argmax hits, over all positions or the masked-in ones") {
  auto fx = [](const char *name) { return nnFixture("accuracy", name); };
  Graph g("accuracy");
  Tensor logits = g.input("logits", {2, 5, 7});
  Tensor labels = g.input("labels", {2, 5}, DType::I64);
  Tensor mask = g.input("mask", {2, 5});
  g.outputs({nn::accuracy(logits, labels), nn::accuracy(logits, labels, mask)});
  for (const auto &[backend, got] :
       testing::runForward(g, {fx("in_logits"), fx("labels"), fx("mask")})) {
    CAPTURE(std::string(backend));
    testing::checkClose(got[0], fx("accuracy"), DType::F32);
    testing::checkClose(got[1], fx("accuracy_masked"), DType::F32);
  }
}

} // namespace frontend_nn_MetricsTest
