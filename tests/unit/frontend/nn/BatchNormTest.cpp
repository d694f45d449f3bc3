//===- tests/unit/frontend/nn/BatchNormTest.cpp - nn::batchNorm1d ---------===//
#include "frontend/nn/BatchNorm.h"

#include "NnFixture.h"

#include <doctest/doctest.h>

namespace frontend_nn_BatchNormTest {

using namespace weft;
using testing::nnFixture;

namespace {

/// Runs nn::batchNorm1d in `mode` on the fixture "batchnorm_<mode>" and compares the output,
/// the new running statistics and the gradients with PyTorch's.
void checkBatchNorm(nn::Mode mode, const std::string &folder) {
  auto fx = [&](const char *name) { return nnFixture(folder, name); };
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtypeName(dt));
    Graph g("batchnorm");
    nn::Scope bn = nn::Scope(g, mode).child("bn");
    Tensor x = g.input("x", {6, 4}, dt);
    Tensor r = g.input("r", {6, 4}, dt);
    nn::BatchNormResult out = nn::batchNorm1d(bn, x, 4);
    g.outputs({testing::dotWith(out.y, r), out.y, out.runningMean, out.runningVar,
               out.numBatchesTracked});
    std::vector<Array> args =
        g.arguments({testing::floatsAs(dt, fx("in_x")), testing::floatsAs(dt, fx("r"))},
                    {testing::floatsAs(dt, fx("in_weight")), testing::floatsAs(dt, fx("in_bias")),
                     testing::floatsAs(dt, fx("in_running_mean")),
                     testing::floatsAs(dt, fx("in_running_var")), Array::of<int64_t>({}, {7})});
    for (const auto &[backend, got] : testing::runWithGradients(g, {"x", "bn.weight", "bn.bias"},
                                                                args, testing::backendsFor(dt))) {
      CAPTURE(std::string(backend));
      testing::checkClose(got[1], fx("y"), dt);
      testing::checkClose(got[2], fx("running_mean"), dt);
      testing::checkClose(got[3], fx("running_var"), dt);
      CHECK(got[4].getDouble(0) == (mode == nn::Mode::Train ? 8 : 7));
      testing::checkClose(got[5], fx("grad_x"), dt);
      testing::checkClose(got[6], fx("grad_weight"), dt);
      testing::checkClose(got[7], fx("grad_bias"), dt);
    }
  }
}

} // namespace

TEST_CASE("nn::batchNorm1d in training normalizes by batch statistics and updates the running "
          "ones as torch.nn.BatchNorm1d") {
  checkBatchNorm(nn::Mode::Train, "batchnorm_train");
}

TEST_CASE("nn::batchNorm1d in eval normalizes by the running statistics and keeps them") {
  checkBatchNorm(nn::Mode::Eval, "batchnorm_eval");
}

TEST_CASE("batch norm's running statistics are named buffers, not trainable parameters") {
  Graph g("bn_state");
  nn::Scope root(g, nn::Mode::Train);
  nn::batchNorm1d(root.child("bn"), g.input("x", {g.dim("N"), 3}), 3);
  std::vector<std::string> names;
  for (const ParamInfo &p : g.params())
    names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"bn.weight", "bn.bias", "bn.running_mean",
                                          "bn.running_var", "bn.num_batches_tracked"});
  CHECK(g.trainableNames() == std::vector<std::string>{"bn.weight", "bn.bias"});
  std::vector<Array> init = g.initParams(0);
  CHECK(init[0].getDouble(2) == 1.0); // weight: ones
  CHECK(init[1].getDouble(2) == 0.0); // bias: zeros
  CHECK(init[2].getDouble(2) == 0.0); // running_mean: zeros
  CHECK(init[3].getDouble(2) == 1.0); // running_var: ones
  CHECK(init[4].dtype() == DType::I64);
}

} // namespace frontend_nn_BatchNormTest
