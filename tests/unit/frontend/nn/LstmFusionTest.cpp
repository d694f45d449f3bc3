//===- tests/unit/frontend/nn/LstmFusionTest.cpp - nn::LSTM under fuse-lstm ===//
//
// The scans nn::LSTM builds (every layer and direction, with lengths) become lstm_sequence
// ops, and the fused model computes what the unfused one does on the interpreter.
//
//===----------------------------------------------------------------------===//
#include "backends/reference/Interpreter.h"
#include "frontend/Weft.h"
#include "frontend/nn/Recurrent.h"
#include "ir/Walk.h"
#include "passes/PassManager.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace frontend_nn_LstmFusionTest {

using namespace weft;

namespace {

int countOps(ir::Module &m, ir::OpKind kind) {
  int n = 0;
  for (auto &f : m.functions())
    ir::walk(f->body(), [&](ir::Op &op) { n += op.kind() == kind; });
  return n;
}

} // namespace

TEST_CASE("fuse-lstm: a two-layer bidirectional nn::LSTM with lengths fuses every scan") {
  Graph g("lstm");
  Dim T = g.dim("T"), B = g.dim("B");
  Tensor xs = g.input("xs", {T, B, 3}, DType::F64);
  Tensor len = g.input("len", {B}, DType::I64);
  nn::LSTM lstm(nn::Scope(g, nn::Mode::Eval).child("lstm"), 3, 5,
                nn::RecurrentOptions().layers(2).bidir().withDType(DType::F64));
  nn::RecurrentOutputs out = lstm(xs, nn::RecurrentInputs().withLengths(len));
  g.outputs({out.output, out.h_n, out.c_n});
  auto unfused = g.build(), fused = g.build();
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE(pm.addPipeline("fuse-lstm,dce").isOk());
  REQUIRE(pm.run(*fused).isOk());
  CHECK(countOps(*fused, ir::OpKind::LstmSequence) == 4);
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
  REQUIRE_OK(got);
  REQUIRE(got->size() == want->size());
  for (size_t r = 0; r < got->size(); ++r) {
    CAPTURE(r);
    REQUIRE((*got)[r].shape() == (*want)[r].shape());
    for (int64_t e = 0; e < (*got)[r].numel(); ++e)
      CHECK(std::fabs((*got)[r].getDouble(e) - (*want)[r].getDouble(e)) <= 1e-12);
  }
}

} // namespace frontend_nn_LstmFusionTest
