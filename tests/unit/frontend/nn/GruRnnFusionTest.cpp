//===- tests/unit/frontend/nn/GruRnnFusionTest.cpp - nn::GRU, nn::RNN fused ===//
//
// The scans nn::GRU (both reset forms) and nn::RNN (tanh and relu) build, every layer and
// direction, with lengths, become gru_sequence / rnn_sequence ops, and the fused model
// computes what the unfused one does on the interpreter. The `optimize` pipeline keeps those
// ops for the cpu backend's kernels, which compute the same.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "frontend/Weft.h"
#include "frontend/nn/Recurrent.h"
#include "ir/Printer.h"
#include "ir/Walk.h"
#include "passes/PassManager.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace frontend_nn_GruRnnFusionTest {

using namespace weft;

namespace {

int countOps(ir::Module &m, ir::OpKind kind) {
  int n = 0;
  for (auto &f : m.functions())
    ir::walk(f->body(), [&](ir::Op &op) { n += op.kind() == kind; });
  return n;
}

enum class Layer { GruAfter, GruBefore, RnnTanh, RnnRelu };

/// A two-layer bidirectional layer of `kind` with lengths, fused by `pipeline` (licm first:
/// nn's Cho-form GRU slices W_hh inside the step) and not, compared on the interpreter; with
/// `onCpu`, the fused model also runs on the cpu backend.
void checkFusesEveryScan(Layer kind, const char *pipeline = "licm,fuse-gru,fuse-rnn,dce",
                         bool onCpu = false) {
  Graph g("rnn");
  Dim T = g.dim("T"), B = g.dim("B");
  Tensor xs = g.input("xs", {T, B, 3}, DType::F64);
  Tensor len = g.input("len", {B}, DType::I64);
  nn::Scope scope = nn::Scope(g, nn::Mode::Eval).child("rnn");
  auto opts = nn::RecurrentOptions().layers(2).bidir().withDType(DType::F64);
  nn::RecurrentOutputs out;
  ir::OpKind fusedKind = ir::OpKind::RnnSequence;
  switch (kind) {
  case Layer::GruAfter:
  case Layer::GruBefore:
    opts.withGruReset(kind == Layer::GruAfter ? nn::GruReset::AfterMatmul
                                              : nn::GruReset::BeforeMatmul);
    out = nn::GRU(scope, 3, 5, opts)(xs, nn::RecurrentInputs().withLengths(len));
    fusedKind = ir::OpKind::GruSequence;
    break;
  case Layer::RnnTanh:
  case Layer::RnnRelu:
    if (kind == Layer::RnnRelu)
      opts.relu();
    out = nn::RNN(scope, 3, 5, opts)(xs, nn::RecurrentInputs().withLengths(len));
    break;
  }
  g.outputs({out.output, out.h_n});
  auto unfused = g.build(), fused = g.build();
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE(pm.addPipeline(pipeline).isOk());
  REQUIRE(pm.run(*fused).isOk());
  INFO(ir::print(*fused));
  CHECK(countOps(*fused, fusedKind) == 4);
  CHECK(countOps(*fused, ir::OpKind::Scan) == 0);

  const int64_t steps = 4, batch = 3;
  ir::DimBindings dims{{"T", steps}, {"B", batch}};
  const ir::Function &f = *unfused->functions()[0];
  std::mt19937_64 rng(5);
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
  auto want = reference::run(f, in, dims);
  REQUIRE_OK(want);
  auto got = reference::run(*fused->functions()[0], in, dims);
  if (onCpu) {
    auto exe = cpu::compile(*fused);
    REQUIRE_OK(exe);
    got = (*exe)->run(fused->functions()[0]->name(), in, dims);
  }
  REQUIRE_OK(got);
  REQUIRE(got->size() == want->size());
  for (size_t r = 0; r < got->size(); ++r) {
    CAPTURE(r);
    REQUIRE((*got)[r].shape() == (*want)[r].shape());
    for (int64_t e = 0; e < (*got)[r].numel(); ++e)
      CHECK(std::fabs((*got)[r].getDouble(e) - (*want)[r].getDouble(e)) <= 1e-12);
  }
}

} // namespace

TEST_CASE("fuse-gru: a two-layer bidirectional nn::GRU with lengths fuses every scan") {
  checkFusesEveryScan(Layer::GruAfter);
}

TEST_CASE("fuse-gru: nn::GRU with the reset before the recurrent matmul (Cho) fuses too") {
  checkFusesEveryScan(Layer::GruBefore);
}

TEST_CASE("fuse-rnn: a two-layer bidirectional nn::RNN with lengths fuses every scan") {
  checkFusesEveryScan(Layer::RnnTanh);
}

TEST_CASE("fuse-rnn: the relu nn::RNN fuses as rnn_sequence {relu = 1}") {
  checkFusesEveryScan(Layer::RnnRelu);
}

TEST_CASE("optimize: nn::GRU and nn::RNN layers stay fused for the cpu's kernels, which agree") {
  checkFusesEveryScan(Layer::GruAfter, "optimize", /*onCpu=*/true);
  checkFusesEveryScan(Layer::GruBefore, "optimize", /*onCpu=*/true);
  checkFusesEveryScan(Layer::RnnTanh, "optimize", /*onCpu=*/true);
}

} // namespace frontend_nn_GruRnnFusionTest
