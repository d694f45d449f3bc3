//===- tests/unit/frontend/nn/RnnCellTest.cpp - one step, as torch's cells --===//
//
// nn::RNNCell, LSTMCell and GRUCell with weights from torch.nn.RNNCell / LSTMCell / GRUCell
// (tests/data/nn_rnn/make_fixtures.py) compute torch's step; the GRU's original form
// (GruReset::BeforeMatmul) computes NumPy's. Run on the interpreter (the sequence layers, built
// from the same step functions, also run on the JIT in RnnParityTest.cpp), in f64.
//
//===----------------------------------------------------------------------===//
#include "backends/reference/Interpreter.h"
#include "frontend/Weft.h"
#include "frontend/nn/RnnCells.h"
#include "frontend/nn/StateDict.h"
#include "runtime/Npy.h"
#include "tests/unit/ConvertArray.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>

namespace frontend_nn_RnnCellTest {

using namespace weft;

namespace {

constexpr int64_t kInput = 4, kHidden = 5;

Array fixture(const std::string &cell, const std::string &name) {
  auto a = readNpy(std::string(WEFT_TEST_DATA_DIR) + "/nn_rnn/" + cell + "/" + name + ".npy");
  REQUIRE_OK(a);
  return testing::convertedTo(DType::F64, *a);
}

/// Runs `g` on the named input fixtures with the cell's weights, named "cell.<name>".
std::vector<Array> run(const Graph &g, const std::string &cell,
                       const std::vector<std::string> &inputs) {
  nn::StateDict sd;
  for (const char *w : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"})
    sd[std::string("cell.") + w] = fixture(cell, w);
  auto params = nn::paramsFromStateDict(g, sd);
  REQUIRE_OK(params);
  std::vector<Array> in;
  for (const std::string &name : inputs)
    in.push_back(fixture(cell, name));
  auto m = g.build();
  auto out = reference::run(*m->functions()[0], g.arguments(in, *params), {{"B", 3}});
  REQUIRE_OK(out);
  return std::move(*out);
}

void checkClose(const Array &got, const Array &want) {
  REQUIRE(got.shape() == want.shape());
  for (int64_t i = 0; i < want.numel(); ++i) {
    CAPTURE(i);
    CHECK(std::fabs(got.getDouble(i) - want.getDouble(i)) <= 1e-12);
  }
}

} // namespace

TEST_CASE("nn RNNCell computes torch.nn.RNNCell's step") {
  Graph g("cell");
  Dim B = g.dim("B");
  nn::RNNCell cell(nn::Scope(g, nn::Mode::Eval).child("cell"), kInput, kHidden,
                   nn::Nonlinearity::Tanh, /*bias=*/true, DType::F64);
  Tensor x = g.input("x", {B, kInput}, DType::F64), h = g.input("h", {B, kHidden}, DType::F64);
  g.output(cell(x, h));
  checkClose(run(g, "rnn_cell", {"x", "h"})[0], fixture("rnn_cell", "h_next"));
}

TEST_CASE("nn LSTMCell computes torch.nn.LSTMCell's step (gates i, f, g, o)") {
  Graph g("cell");
  Dim B = g.dim("B");
  nn::LSTMCell cell(nn::Scope(g, nn::Mode::Eval).child("cell"), kInput, kHidden, /*bias=*/true,
                    DType::F64);
  Tensor x = g.input("x", {B, kInput}, DType::F64), h = g.input("h", {B, kHidden}, DType::F64),
         c = g.input("c", {B, kHidden}, DType::F64);
  auto [h2, c2] = cell(x, h, c);
  g.outputs({h2, c2});
  std::vector<Array> got = run(g, "lstm_cell", {"x", "h", "c"});
  checkClose(got[0], fixture("lstm_cell", "h_next"));
  checkClose(got[1], fixture("lstm_cell", "c_next"));
}

TEST_CASE("nn GRUCell computes torch.nn.GRUCell's step, and the original form on request") {
  for (nn::GruReset reset : {nn::GruReset::AfterMatmul, nn::GruReset::BeforeMatmul}) {
    bool pytorchForm = reset == nn::GruReset::AfterMatmul;
    CAPTURE(pytorchForm);
    Graph g("cell");
    Dim B = g.dim("B");
    nn::GRUCell cell(nn::Scope(g, nn::Mode::Eval).child("cell"), kInput, kHidden, /*bias=*/true,
                     reset, DType::F64);
    Tensor x = g.input("x", {B, kInput}, DType::F64), h = g.input("h", {B, kHidden}, DType::F64);
    g.output(cell(x, h));
    checkClose(run(g, "gru_cell", {"x", "h"})[0],
               fixture("gru_cell", pytorchForm ? "h_next" : "h_next_reset_before"));
  }
}

TEST_CASE("nn cells name their parameters as torch's cells do, with torch's shapes") {
  Graph g("cells");
  nn::Scope root(g, nn::Mode::Eval);
  nn::LSTMCell(root.child("lstm"), 3, 7);
  nn::GRUCell(root.child("gru"), 3, 7, /*bias=*/false);
  std::vector<std::pair<std::string, std::string>> got;
  for (const ParamInfo &p : g.params())
    got.emplace_back(p.name, p.type.shapeStr());
  std::vector<std::pair<std::string, std::string>> want{
      {"lstm.weight_ih", "[28, 3]"}, {"lstm.weight_hh", "[28, 7]"}, {"lstm.bias_ih", "[28]"},
      {"lstm.bias_hh", "[28]"},      {"gru.weight_ih", "[21, 3]"},  {"gru.weight_hh", "[21, 7]"}};
  CHECK(got == want);
}

} // namespace frontend_nn_RnnCellTest
