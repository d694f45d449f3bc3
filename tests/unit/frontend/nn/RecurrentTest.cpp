//===- tests/unit/frontend/nn/RecurrentTest.cpp - layer structure and errors --===//
//
// What RNN / LSTM / GRU build (parameter names and shapes, dropout sites) and how they refuse
// bad inputs. Their numbers are checked against PyTorch in RnnParityTest.cpp.
//
//===----------------------------------------------------------------------===//
#include "frontend/nn/Recurrent.h"

#include "ThrownMessage.h"
#include "frontend/Weft.h"
#include "ir/Module.h"

#include <doctest/doctest.h>

namespace frontend_nn_RecurrentTest {

using namespace weft;

namespace {

std::vector<std::pair<std::string, std::string>> paramShapes(const Graph &g) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const ParamInfo &p : g.params())
    out.emplace_back(p.name, p.type.shapeStr());
  return out;
}

/// Ops of `kind` anywhere in `f`, nested bodies included.
int countOps(const ir::Block &b, ir::OpKind kind) {
  int n = 0;
  for (const auto &op : b.ops()) {
    n += op->kind() == kind;
    for (size_t r = 0; r < op->numRegions(); ++r)
      n += countOps(op->region(r), kind);
  }
  return n;
}

/// Checks that `msg` is located at this test file and holds every part of `parts`.
void checkMessage(const std::string &msg, std::initializer_list<const char *> parts) {
  CAPTURE(msg);
  CHECK(msg.find("RecurrentTest.cpp:") != std::string::npos);
  for (const char *part : parts) {
    CAPTURE(part);
    CHECK(msg.find(part) != std::string::npos);
  }
}

} // namespace

TEST_CASE("nn LSTM names its parameters as torch.nn.LSTM's state_dict, with torch's shapes") {
  Graph g("lstm");
  nn::Scope enc = nn::Scope(g, nn::Mode::Eval).child("encoder");
  nn::LSTM(enc.child("lstm"), 3, 4, nn::RecurrentOptions().layers(2).bidir());
  std::vector<std::pair<std::string, std::string>> want;
  for (const char *layer : {"l0", "l1"})
    for (const char *dir : {"", "_reverse"}) {
      std::string in = std::string(layer) == "l0" ? "3" : "8"; // layer 1 reads [fwd, bwd]
      std::string s = std::string("_") + layer + dir;
      want.emplace_back("encoder.lstm.weight_ih" + s, "[16, " + in + "]");
      want.emplace_back("encoder.lstm.weight_hh" + s, "[16, 4]");
      want.emplace_back("encoder.lstm.bias_ih" + s, "[16]");
      want.emplace_back("encoder.lstm.bias_hh" + s, "[16]");
    }
  CHECK(paramShapes(g) == want);
}

TEST_CASE("nn GRU and RNN have 3 and 1 gates, and no biases with withBias(false)") {
  Graph g("rnns");
  nn::Scope root(g, nn::Mode::Eval);
  nn::GRU(root.child("gru"), 3, 4, nn::RecurrentOptions().withBias(false));
  nn::RNN(root.child("rnn"), 3, 4, nn::RecurrentOptions().relu());
  std::vector<std::pair<std::string, std::string>> want{
      {"gru.weight_ih_l0", "[12, 3]"}, {"gru.weight_hh_l0", "[12, 4]"},
      {"rnn.weight_ih_l0", "[4, 3]"},  {"rnn.weight_hh_l0", "[4, 4]"},
      {"rnn.bias_ih_l0", "[4]"},       {"rnn.bias_hh_l0", "[4]"}};
  CHECK(paramShapes(g) == want);
}

TEST_CASE("nn LSTM's parameters start from PyTorch's default U(-1/sqrt(H), 1/sqrt(H))") {
  Graph g("lstm");
  nn::LSTM(nn::Scope(g, nn::Mode::Eval).child("lstm"), 3, 16);
  for (const ParamInfo &p : g.params()) {
    CAPTURE(p.name);
    CHECK(p.init.kind == Init::Kind::Uniform);
    CHECK(p.init.a == doctest::Approx(-0.25));
    CHECK(p.init.b == doctest::Approx(0.25));
  }
}

TEST_CASE("nn LSTM drops out between layers in training only, never after the last layer") {
  for (nn::Mode mode : {nn::Mode::Train, nn::Mode::Eval}) {
    bool train = mode == nn::Mode::Train;
    CAPTURE(train);
    Graph g("lstm");
    Dim T = g.dim("T"), B = g.dim("B");
    Tensor xs = g.input("xs", {T, B, 3});
    nn::Scope s = nn::Scope(g, mode).withSeed(g.input("seed", {}, DType::I64));
    nn::LSTM lstm(s.child("lstm"), 3, 4, nn::RecurrentOptions().layers(3).withDropout(0.5));
    nn::RecurrentOutputs out = lstm(xs);
    g.outputs({out.output, out.h_n, out.c_n});
    auto m = g.build();
    const ir::Block &body = m->functions()[0]->body();
    CHECK(countOps(body, ir::OpKind::Scan) == 3);
    CHECK(countOps(body, ir::OpKind::RandomUniform) == (train ? 2 : 0));
    CHECK(out.output.type().str() == "tensor<T x B x 4 x f32>");
    CHECK(out.h_n.type().str() == "tensor<3 x B x 4 x f32>");
  }
}

TEST_CASE("nn LSTM refuses xs of the wrong rank, size or dtype, naming the layer and shapes") {
  Graph g("lstm");
  Dim T = g.dim("T"), B = g.dim("B");
  nn::LSTM lstm(nn::Scope(g, nn::Mode::Eval).child("enc").child("lstm"), 3, 4);
  Tensor rank2 = g.input("a", {B, 3}), wide = g.input("b", {T, B, 5});
  Tensor f64 = g.input("c", {T, B, 3}, DType::F64);
  checkMessage(testing::thrownMessage([&] { lstm(rank2); }),
               {"nn.LSTM 'enc.lstm'", "[T, B, 3] of f32", "tensor<B x 3 x f32>"});
  checkMessage(testing::thrownMessage([&] { lstm(wide); }),
               {"nn.LSTM 'enc.lstm'", "[T, B, 3] of f32", "tensor<T x B x 5 x f32>"});
  checkMessage(testing::thrownMessage([&] { lstm(f64); }),
               {"nn.LSTM 'enc.lstm'", "[T, B, 3] of f32", "tensor<T x B x 3 x f64>"});
}

TEST_CASE("nn GRU refuses lengths of the wrong dtype or shape, naming both shapes") {
  Graph g("gru");
  Dim T = g.dim("T"), B = g.dim("B"), C = g.dim("C");
  nn::GRU gru(nn::Scope(g, nn::Mode::Eval).child("gru"), 3, 4);
  Tensor xs = g.input("xs", {T, B, 3});
  for (Tensor len :
       {g.input("f", {B}), g.input("r2", {B, 1}, DType::I64), g.input("other", {C}, DType::I32)}) {
    CAPTURE(len.type().str());
    checkMessage(testing::thrownMessage([&] { gru(xs, nn::RecurrentInputs().withLengths(len)); }),
                 {"nn.GRU 'gru'", "lengths must be tensor<B x i32> or tensor<B x i64>",
                  "tensor<T x B x 3 x f32>", len.type().str().c_str()});
  }
}

TEST_CASE("nn RNN and LSTM refuse initial states of the wrong shape") {
  Graph g("states");
  Dim T = g.dim("T"), B = g.dim("B");
  nn::Scope root(g, nn::Mode::Eval);
  nn::RNN rnn(root.child("rnn"), 3, 4, nn::RecurrentOptions().layers(2).bidir());
  nn::LSTM lstm(root.child("lstm"), 3, 4);
  Tensor xs = g.input("xs", {T, B, 3});
  Tensor h1 = g.input("h1", {1, B, 4}), h4 = g.input("h4", {4, B, 4});
  checkMessage(
      testing::thrownMessage([&] { rnn(xs, nn::RecurrentInputs().withState(h1)); }),
      {"nn.RNN 'rnn'", "h0 must be tensor<4 x B x 4 x f32>", "got tensor<1 x B x 4 x f32>"});
  checkMessage(testing::thrownMessage([&] { rnn(xs, nn::RecurrentInputs().withState(h4, h4)); }),
               {"nn.RNN 'rnn'", "only an LSTM takes c0"});
  checkMessage(testing::thrownMessage([&] { lstm(xs, nn::RecurrentInputs().withState(h1)); }),
               {"nn.LSTM 'lstm'", "give both h0 and c0"});
  checkMessage(
      testing::thrownMessage([&] { lstm(xs, nn::RecurrentInputs().withState(h1, h4)); }),
      {"nn.LSTM 'lstm'", "c0 must be tensor<1 x B x 4 x f32>", "got tensor<4 x B x 4 x f32>"});
}

TEST_CASE("nn layers refuse options that do not apply to them") {
  Graph g("bad");
  nn::Scope root(g, nn::Mode::Eval);
  checkMessage(testing::thrownMessage(
                   [&] { nn::LSTM(root.child("a"), 3, 4, nn::RecurrentOptions().relu()); }),
               {"nn.LSTM 'a'", "relu() applies to nn.RNN only"});
  checkMessage(testing::thrownMessage(
                   [&] { nn::GRU(root.child("b"), 3, 4, nn::RecurrentOptions().layers(0)); }),
               {"nn.GRU 'b'", "num_layers must be at least 1, got 0"});
  checkMessage(testing::thrownMessage([&] {
                 nn::RNN(root.child("c"), 3, 4, nn::RecurrentOptions().withDropout(-0.1));
               }),
               {"nn.RNN 'c'", "dropout must be in [0, 1], got -0.1"});
}

} // namespace frontend_nn_RecurrentTest
