//===- tests/unit/frontend/seq2seq/TrainStepPipelineTest.cpp - the fused step ===//
//
// The training step optim::trainStepPipeline builds for a small nn::LSTM encoder-decoder
// (f64, lengths on both sides, the encoder's final state starting the teacher-forced decoder)
// fuses both LSTMs: their gradients are lstm_sequence_grad ops reading the gates their forwards
// saved. Its loss and updated parameters (SGD with lr 1: each parameter minus its gradient)
// equal those of optimize-step run alone, on the scans, on the interpreter and the cpu JIT.
//
//===----------------------------------------------------------------------===//
#include "frontend/Weft.h"
#include "frontend/nn/Recurrent.h"
#include "ir/Signature.h"
#include "ir/Walk.h"
#include "passes/PassManager.h"
#include "passes/optim/StepPipeline.h"
#include "tests/unit/frontend/nn/RunBackends.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

namespace frontend_seq2seq_TrainStepPipelineTest {

using namespace weft;

namespace {

int countOps(const ir::Module &m, std::string_view function, ir::OpKind kind, bool saving) {
  int n = 0;
  ir::walk(m.function(std::string(function))->body(),
           [&](ir::Op &op) { n += op.kind() == kind && op.saveGates() == saving; });
  return n;
}

/// Loss: a fixed readout of the decoder's outputs and the encoder's final cell state.
void buildSeq2Seq(Graph &g) {
  Dim S = g.dim("S"), T = g.dim("T"), B = g.dim("B");
  Tensor source = g.input("source", {S, B, 3}, DType::F64);
  Tensor sourceLengths = g.input("source_lengths", {B}, DType::I64);
  Tensor targets = g.input("targets", {T, B, 3}, DType::F64);
  Tensor targetLengths = g.input("target_lengths", {B}, DType::I64);
  Tensor readout = g.input("readout", {T, B, 4}, DType::F64);
  nn::Scope model(g, nn::Mode::Train);
  auto options = nn::RecurrentOptions().withDType(DType::F64);
  nn::LSTM encoder(model.child("encoder"), 3, 4, options);
  nn::LSTM decoder(model.child("decoder"), 3, 4, options);
  nn::RecurrentOutputs e = encoder(source, nn::RecurrentInputs().withLengths(sourceLengths));
  nn::RecurrentOutputs d =
      decoder(targets, nn::RecurrentInputs().withState(e.h_n, e.c_n).withLengths(targetLengths));
  g.outputs({sum(d.output * readout, {0, 1, 2}) + sum(e.c_n * e.c_n, {0, 1, 2})});
}

std::string paramNames(const Graph &g) {
  std::string names;
  for (const ParamInfo &p : g.params())
    names += (names.empty() ? "" : ",") + p.name;
  return names;
}

std::unique_ptr<ir::Module> stepModule(const Graph &g, const std::string &pipeline) {
  auto m = g.build();
  std::ostringstream log;
  passes::PassManager pm(log);
  Status added = pm.addPipeline(pipeline);
  REQUIRE_OK(added);
  Status ran = pm.run(*m);
  REQUIRE_OK(ran);
  return m;
}

} // namespace

TEST_CASE("trainStepPipeline is the train pipeline with optimize-step for autodiff") {
  std::string p = optim::trainStepPipeline("kind=adam lr=0.01 params=W");
  CHECK(p.find("optimize-step{kind=adam lr=0.01 params=W}") != std::string::npos);
  CHECK(p.find("autodiff") == std::string::npos);
  CHECK(p.find("fuse-lstm") < p.find("optimize-step"));
  CHECK(p.find("optimize-step") < p.find("save-lstm-gates"));
  CHECK(p.find("optimize-step") < p.find("save-gru-gates"));
}

TEST_CASE("an nn::LSTM encoder-decoder's step fuses and matches the unfused step") {
  Graph g("s2s");
  buildSeq2Seq(g);
  std::string options = fmt::format("kind=sgd lr=1 params={}", paramNames(g));
  auto unfused = stepModule(g, fmt::format("optimize-step{{{}}}", options));
  auto fused = stepModule(g, optim::trainStepPipeline(options));
  CHECK(countOps(*unfused, "s2s_step", ir::OpKind::LstmSequenceGrad, false) == 0);
  CHECK(countOps(*fused, "s2s_step", ir::OpKind::LstmSequenceGrad, /*saving=*/true) == 2);
  CHECK(countOps(*fused, "s2s_step", ir::OpKind::LstmSequence, /*saving=*/true) == 2);
  CHECK(countOps(*fused, "s2s_step", ir::OpKind::Scan, false) == 0);

  const int64_t source = 5, target = 4, batch = 3;
  ir::DimBindings dims{{"S", source}, {"T", target}, {"B", batch}};
  const ir::Function &step = *unfused->function("s2s_step");
  const std::vector<std::string> results = ir::Signature::of(step).resultNames;
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::vector<Array> in;
  for (size_t p = 0; p < step.numParams(); ++p) {
    auto shape = step.param(p)->type().evaluateShape(dims);
    REQUIRE_OK(shape);
    Array a(step.param(p)->type().dtype(), *shape);
    const std::string &name = step.param(p)->name();
    const int64_t longest = name == "source_lengths" ? source : target;
    for (int64_t e = 0; e < a.numel(); ++e) {
      if (isFloat(a.dtype()))
        a.setDouble(e, uni(rng));
      else if (name == "step")
        a.setInt(e, 0);
      else // a length from 1 to the longest
        a.setInt(e, 1 + static_cast<int64_t>(rng() % longest));
    }
    in.push_back(std::move(a));
  }
  auto want = reference::run(step, in, dims);
  REQUIRE_OK(want);
  // runBackends runs every function on these arguments: only the step takes them.
  auto &fs = fused->functions();
  fs.erase(
      std::remove_if(fs.begin(), fs.end(), [](const auto &f) { return f->name() != "s2s_step"; }),
      fs.end());
  for (auto &[backend, byFn] : testing::runBackends(*fused, in, dims)) {
    CAPTURE(backend);
    const std::vector<Array> &got = byFn.at("s2s_step");
    REQUIRE(got.size() == want->size());
    for (size_t k = 0; k < got.size(); ++k) {
      CAPTURE(results[k]);
      REQUIRE(got[k].shape() == (*want)[k].shape());
      for (int64_t e = 0; e < got[k].numel(); ++e)
        CHECK(std::fabs(got[k].getDouble(e) - (*want)[k].getDouble(e)) <=
              1e-11 * (1 + std::fabs((*want)[k].getDouble(e))));
    }
  }
}

} // namespace frontend_seq2seq_TrainStepPipelineTest
