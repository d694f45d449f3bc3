//===- tests/unit/frontend/nn/RnnParityTest.cpp - PyTorch's RNNs, in weft --===//
//
// Weights exported from torch.nn.RNN / LSTM / GRU (tests/data/nn_rnn/make_fixtures.py) load
// by their state_dict names into nn::RNN / LSTM / GRU, and weft's outputs, final states and
// parameter gradients match PyTorch's on the reference interpreter and the CPU JIT. PyTorch
// computed in float64 from the float32 weights and inputs, so its numbers are the exact answer
// for those inputs: a float32 run is held to 1e-5, a float64 run to 1e-5 relative per gradient
// element (it lands near 1e-13).
//
//===----------------------------------------------------------------------===//
#include "RunBackends.h"
#include "frontend/Weft.h"
#include "frontend/nn/Recurrent.h"
#include "frontend/nn/StateDict.h"
#include "passes/autodiff/Autodiff.h"
#include "runtime/Npy.h"
#include "tests/unit/ConvertArray.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

namespace frontend_nn_RnnParityTest {

using namespace weft;

namespace {

/// One fixture folder and the torch module that made it.
struct Case {
  const char *name;
  nn::CellKind kind;
  nn::RecurrentOptions opts;
  bool lengths = false, initialState = false;
  /// Whether the gradient also runs on the JIT, not only on the interpreter: one case with a
  /// reverse scan and lengths, since compiling a gradient costs a second (RunBackends.h).
  bool jitGradient = false;
};

const Case kCases[] = {
    {"rnn_tanh_h0", nn::CellKind::SimpleRNN, {}, false, true},
    {"rnn_relu_nobias", nn::CellKind::SimpleRNN,
     nn::RecurrentOptions().layers(2).relu().withBias(false)},
    {"lstm_2layer", nn::CellKind::LSTM, nn::RecurrentOptions().layers(2)},
    {"lstm_bi_lengths", nn::CellKind::LSTM, nn::RecurrentOptions().layers(2).bidir(), true, true},
    {"gru_2layer", nn::CellKind::GRU, nn::RecurrentOptions().layers(2)},
    {"gru_bi_lengths", nn::CellKind::GRU, nn::RecurrentOptions().bidir(), true, false, true},
};
constexpr int64_t kInput = 4, kHidden = 5;

std::string dir(const Case &c) { return std::string(WEFT_TEST_DATA_DIR) + "/nn_rnn/" + c.name; }

Array fixture(const Case &c, const std::string &name) {
  auto a = readNpy(dir(c) + "/" + name + ".npy");
  REQUIRE_OK(a);
  return std::move(*a);
}

/// The case's weights, named as a model holding the layer at "encoder.rnn" would name them.
nn::StateDict stateDict(const Case &c, const std::string &sub = "") {
  nn::StateDict sd;
  for (const auto &e : std::filesystem::directory_iterator(dir(c) + sub)) {
    std::string stem = e.path().stem().string();
    if (stem.rfind("weight_", 0) == 0 || stem.rfind("bias_", 0) == 0)
      sd["encoder.rnn." + stem] = fixture(c, sub.empty() ? stem : sub.substr(1) + "/" + stem);
  }
  return sd;
}

bool isLstm(const Case &c) { return c.kind == nn::CellKind::LSTM; }

/// The results PyTorch returned: output, h_n and (LSTM) c_n.
std::vector<std::string> resultNames(const Case &c) {
  if (isLstm(c))
    return {"output", "h_n", "c_n"};
  return {"output", "h_n"};
}

/// A graph for the case in `dt`: outputs the loss sum(result * r_result) over the results,
/// then the results. Its arguments come from args().
struct Model {
  std::unique_ptr<Graph> g = std::make_unique<Graph>("rnn");
  std::vector<Array> inputs;
};

Model build(const Case &c, DType dt) {
  Model m;
  Graph &g = *m.g;
  Dim T = g.dim("T"), B = g.dim("B");
  nn::RecurrentOptions opts = c.opts;
  opts.withDType(dt);
  nn::Scope scope = nn::Scope(g, nn::Mode::Eval).child("encoder").child("rnn");
  std::unique_ptr<nn::Recurrent> layer;
  if (c.kind == nn::CellKind::SimpleRNN)
    layer = std::make_unique<nn::RNN>(scope, kInput, kHidden, opts);
  else if (isLstm(c))
    layer = std::make_unique<nn::LSTM>(scope, kInput, kHidden, opts);
  else
    layer = std::make_unique<nn::GRU>(scope, kInput, kHidden, opts);
  int64_t states = opts.numLayers * layer->directions();

  Tensor xs = g.input("xs", {T, B, kInput}, dt);
  m.inputs.push_back(testing::convertedTo(dt, fixture(c, "x")));
  nn::RecurrentInputs in;
  if (c.lengths) {
    in.withLengths(g.input("lengths", {B}, DType::I64));
    m.inputs.push_back(fixture(c, "lengths"));
  }
  if (c.initialState) {
    in.h0 = g.input("h0", {states, B, kHidden}, dt);
    m.inputs.push_back(testing::convertedTo(dt, fixture(c, "h0")));
    if (isLstm(c)) {
      in.c0 = g.input("c0", {states, B, kHidden}, dt);
      m.inputs.push_back(testing::convertedTo(dt, fixture(c, "c0")));
    }
  }
  nn::RecurrentOutputs out = (*layer)(xs, in);
  std::vector<Tensor> results{out.output, out.h_n};
  if (isLstm(c))
    results.push_back(out.c_n);
  Tensor loss;
  std::vector<std::string> names = resultNames(c);
  for (size_t i = 0; i < results.size(); ++i) {
    Tensor r = g.input("r_" + names[i], results[i].shape(), dt);
    m.inputs.push_back(testing::convertedTo(dt, fixture(c, "r_" + names[i])));
    Tensor term = sum(results[i] * r, {0, 1, 2});
    loss = loss.valid() ? loss + term : term;
  }
  results.insert(results.begin(), loss);
  g.outputs(results);
  return m;
}

std::vector<Array> args(const Model &m, const Case &c) {
  auto params = nn::paramsFromStateDict(*m.g, stateDict(c));
  REQUIRE_OK(params);
  return m.g->arguments(m.inputs, *params);
}

const ir::DimBindings kDims{{"T", 5}, {"B", 3}};

/// Counts elements of `got` farther from `want` than abs + rel * |want|, reporting the first.
void checkClose(const Array &got, const Array &want, double abs, double rel) {
  REQUIRE(got.shape() == want.shape());
  int64_t bad = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    double gv = got.getDouble(i), wv = want.getDouble(i);
    if (std::fabs(gv - wv) <= abs + rel * std::fabs(wv))
      continue;
    if (bad++ == 0) {
      CAPTURE(i);
      CAPTURE(gv);
      CAPTURE(wv);
      CHECK_MESSAGE(false, "differs from PyTorch");
    }
  }
  CHECK(bad == 0);
}

} // namespace

TEST_CASE("nn RNN, LSTM and GRU with PyTorch's weights compute PyTorch's outputs and states") {
  for (const Case &c : kCases) {
    CAPTURE(c.name);
    Model m = build(c, DType::F32);
    auto module = m.g->build();
    std::vector<std::string> names = resultNames(c);
    for (auto &[backend, byFn] : testing::runBackends(*module, args(m, c), kDims)) {
      CAPTURE(backend);
      const std::vector<Array> &got = byFn.at("rnn");
      REQUIRE(got.size() == names.size() + 1);
      for (size_t r = 0; r < names.size(); ++r) {
        CAPTURE(names[r]);
        checkClose(got[r + 1], fixture(c, names[r]), 1e-5, 1e-5);
      }
    }
  }
}

TEST_CASE("nn RNN, LSTM and GRU in f64: outputs, states and parameter gradients match torch's") {
  for (const Case &c : kCases) {
    CAPTURE(c.name);
    Model m = build(c, DType::F64);
    auto module = m.g->build();
    autodiff::GradOptions opts;
    for (const ParamInfo &p : m.g->params())
      opts.wrt.push_back(p.name);
    auto grad = autodiff::buildGradient(*module, *module->functions()[0], opts);
    REQUIRE_OK(grad);
    std::vector<std::string> names = resultNames(c);
    nn::StateDict wantGrad = stateDict(c, "/grad");
    auto which =
        c.jitGradient ? testing::RunOn::InterpreterAndJit : testing::RunOn::InterpreterOnly;
    for (auto &[backend, byFn] : testing::runBackends(*module, args(m, c), kDims, which)) {
      CAPTURE(backend);
      const std::vector<Array> &got = byFn.at("rnn");
      REQUIRE(got.size() == names.size() + 1);
      for (size_t r = 0; r < names.size(); ++r) {
        CAPTURE(names[r]);
        checkClose(got[r + 1], fixture(c, names[r]), 1e-12, 1e-12);
      }
      const std::vector<Array> &grads = byFn.at((*grad)->name());
      REQUIRE(grads.size() == opts.wrt.size() + 1);
      for (size_t k = 0; k < opts.wrt.size(); ++k) {
        CAPTURE(opts.wrt[k]);
        checkClose(grads[k + 1], wantGrad.at(opts.wrt[k]), 1e-14, 1e-5);
      }
    }
  }
}

} // namespace frontend_nn_RnnParityTest
