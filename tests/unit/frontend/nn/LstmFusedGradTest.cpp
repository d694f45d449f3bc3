//===- tests/unit/frontend/nn/LstmFusedGradTest.cpp - lstm_sequence_grad --===//
//
// A two-layer bidirectional nn::LSTM with lengths, differentiated twice: through the scans
// nn::LSTM builds (BPTT of scan), and after fuse-lstm, which makes each scan an lstm_sequence
// that autodiff differentiates as one op (lstm_sequence_grad), as the train pipeline does, and
// then with save-lstm-gates too (the forward saves its gates for the gradient). The parameter
// gradients agree, on the interpreter and on the cpu backend.
//
//===----------------------------------------------------------------------===//
#include "RunBackends.h"
#include "frontend/Weft.h"
#include "frontend/nn/Recurrent.h"
#include "ir/Walk.h"
#include "passes/PassManager.h"
#include "passes/autodiff/Autodiff.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace frontend_nn_LstmFusedGradTest {

using namespace weft;

namespace {

int countOps(ir::Module &m, ir::OpKind kind) {
  int n = 0;
  for (auto &f : m.functions())
    ir::walk(f->body(), [&](ir::Op &op) { n += op.kind() == kind; });
  return n;
}

/// The gradients of a two-layer bidirectional nn::LSTM with lengths, fused (and with
/// `saveGates` in the training form) against those of its scans.
void checkFusedGradients(bool saveGates) {
  Graph g("lstm");
  Dim T = g.dim("T"), B = g.dim("B");
  Tensor xs = g.input("xs", {T, B, 3}, DType::F64);
  Tensor len = g.input("len", {B}, DType::I64);
  Tensor r = g.input("r", {T, B, 10}, DType::F64);
  nn::LSTM lstm(nn::Scope(g, nn::Mode::Eval).child("lstm"), 3, 5,
                nn::RecurrentOptions().layers(2).bidir().withDType(DType::F64));
  nn::RecurrentOutputs out = lstm(xs, nn::RecurrentInputs().withLengths(len));
  // Every result reaches the loss: the output sequence and both final states.
  Tensor loss =
      sum(out.output * r, {0, 1, 2}) + sum(out.h_n * out.h_n, {0, 1, 2}) + sum(out.c_n, {0, 1, 2});
  g.outputs({loss});
  auto unfused = g.build(), fused = g.build();
  autodiff::GradOptions opts;
  for (const auto &p : g.params())
    opts.wrt.push_back(p.name);
  opts.name = "grad";
  REQUIRE_OK(autodiff::buildGradient(*unfused, *unfused->functions()[0], opts).status());
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE(pm.addPipeline("fuse-lstm,dce").isOk());
  REQUIRE(pm.run(*fused).isOk());
  REQUIRE_OK(autodiff::buildGradient(*fused, *fused->functions()[0], opts).status());
  if (saveGates) {
    passes::PassManager save(log);
    REQUIRE(save.addPipeline("save-lstm-gates").isOk());
    REQUIRE(save.run(*fused).isOk());
  }
  CHECK(countOps(*fused, ir::OpKind::LstmSequenceGrad) == 4);
  int saving = 0;
  for (auto &fn : fused->functions())
    ir::walk(fn->body(), [&](ir::Op &op) {
      bool lstm =
          op.kind() == ir::OpKind::LstmSequence || op.kind() == ir::OpKind::LstmSequenceGrad;
      saving += lstm && op.saveGates();
    });
  CHECK(saving == (saveGates ? 8 : 0)); // four forwards and their four gradients
  CHECK(countOps(*unfused, ir::OpKind::LstmSequenceGrad) == 0);

  const int64_t steps = 4, batch = 3;
  ir::DimBindings dims{{"T", steps}, {"B", batch}};
  const ir::Function &f = *unfused->functions()[0];
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::vector<Array> in;
  for (size_t p = 0; p < f.numParams(); ++p) {
    auto shape = f.param(p)->type().evaluateShape(dims);
    REQUIRE_OK(shape);
    Array a(f.param(p)->type().dtype(), *shape);
    for (int64_t e = 0; e < a.numel(); ++e) {
      if (isFloat(a.dtype()))
        a.setDouble(e, uni(rng));
      else
        a.setInt(e, static_cast<int64_t>(rng() % (steps + 1)));
    }
    in.push_back(std::move(a));
  }
  auto want = reference::run(*unfused->function("grad"), in, dims);
  REQUIRE_OK(want);
  REQUIRE(want->size() == opts.wrt.size() + 1);
  for (auto &[backend, byFn] : testing::runBackends(*fused, in, dims)) {
    CAPTURE(backend);
    const std::vector<Array> &got = byFn.at("grad");
    REQUIRE(got.size() == want->size());
    for (size_t k = 0; k < got.size(); ++k) {
      CAPTURE(k);
      REQUIRE(got[k].shape() == (*want)[k].shape());
      for (int64_t e = 0; e < got[k].numel(); ++e)
        CHECK(std::fabs(got[k].getDouble(e) - (*want)[k].getDouble(e)) <=
              1e-11 * (1 + std::fabs((*want)[k].getDouble(e))));
    }
  }
}

} // namespace

TEST_CASE("train: a two-layer bidirectional nn::LSTM's fused gradients match the scans'") {
  checkFusedGradients(/*saveGates=*/false);
}

TEST_CASE("train: with the gates saved by the forward, the fused gradients match the scans'") {
  checkFusedGradients(/*saveGates=*/true);
}

} // namespace frontend_nn_LstmFusedGradTest
