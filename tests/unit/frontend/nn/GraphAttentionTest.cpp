//===- tests/unit/frontend/nn/GraphAttentionTest.cpp - a GAT layer on a small graph -===//
//
// On the reference interpreter: a node's output depends on its neighbours' features (and its
// own) and on no other node's, the attention coefficients follow the adjacency, and the heads
// are concatenated or averaged.
//
//===----------------------------------------------------------------------===//
#include "frontend/nn/attention/GraphAttention.h"

#include "NnFixture.h"
#include "ThrownMessage.h"
#include "frontend/Weft.h"

#include <doctest/doctest.h>

#include <cmath>

namespace frontend_nn_GraphAttentionTest {

using namespace weft;

namespace {

constexpr int64_t N = 4, Fin = 3, F = 2, Heads = 3;

/// The path 0 - 1 - 2 and the lone node 3, as a symmetric 0/1 matrix.
Array pathAdjacency() {
  std::vector<double> a(N * N, 0.0);
  for (auto [i, j] : {std::pair{0, 1}, {1, 2}}) {
    a[size_t(i * N + j)] = 1;
    a[size_t(j * N + i)] = 1;
  }
  return Array::of<double>({N, N}, a);
}

struct Gat {
  std::unique_ptr<Graph> g = std::make_unique<Graph>("gat");
  std::vector<Array> params;
};

Gat build(const nn::GraphAttentionOptions &o) {
  Gat m;
  Tensor x = m.g->input("x", {N, Fin}, DType::F64);
  Tensor adj = m.g->input("adj", {N, N}, DType::F64);
  nn::Scope s(*m.g, nn::Mode::Eval);
  m.g->output(nn::graphAttention(s.child("gat"), x, adj, Fin, F, o));
  m.params = m.g->initParams(4);
  return m;
}

Array run(const Gat &m, const Array &x) {
  return testing::runForward(*m.g, m.g->arguments({x, pathAdjacency()}, m.params),
                             testing::Backends::Interpreter)[0]
      .results[0];
}

/// The largest change of node i's outputs between two runs.
double change(const Array &a, const Array &b, int64_t i) {
  int64_t width = a.shape()[1];
  double d = 0;
  for (int64_t k = 0; k < width; ++k)
    d = std::max(d, std::fabs(a.getDouble(i * width + k) - b.getDouble(i * width + k)));
  return d;
}

} // namespace

TEST_CASE("graphAttention: a node's output changes with its neighbours' features and not with "
          "any other node's") {
  Gat m = build(nn::GraphAttentionOptions().withHeads(Heads));
  Array x = drawInit(init::uniform(-1, 1), DType::F64, {N, Fin}, 7).take();
  Array y0 = run(m, x);
  CHECK(y0.shape() == std::vector<int64_t>{N, Heads * F});
  // Change node 2's features: nodes 1 and 2 see it, nodes 0 and 3 do not.
  Array x2 = x;
  for (int64_t k = 0; k < Fin; ++k)
    x2.setDouble(2 * Fin + k, x2.getDouble(2 * Fin + k) + 0.7);
  Array y2 = run(m, x2);
  CHECK(change(y0, y2, 0) == 0.0);
  CHECK(change(y0, y2, 3) == 0.0);
  CHECK(change(y0, y2, 1) > 1e-6);
  CHECK(change(y0, y2, 2) > 1e-6);
}

TEST_CASE("graphAttention: a node without edges attends only to itself (self loops)") {
  // Node 3 has no neighbours: alpha = 1 on itself, so out[3] = lin(x[3]) + bias exactly, and
  // with the bias zero (its initializer) the output is linear in x[3].
  Gat m = build(nn::GraphAttentionOptions().withHeads(2).withMeanOfHeads());
  Array x = drawInit(init::uniform(-1, 1), DType::F64, {N, Fin}, 8).take();
  Array doubled = x;
  for (int64_t k = 0; k < Fin; ++k)
    doubled.setDouble(3 * Fin + k, 2 * x.getDouble(3 * Fin + k));
  Array y = run(m, x), y2 = run(m, doubled);
  CHECK(y.shape() == std::vector<int64_t>{N, F});
  for (int64_t k = 0; k < F; ++k) {
    CAPTURE(k);
    CHECK(y2.getDouble(3 * F + k) == doctest::Approx(2 * y.getDouble(3 * F + k)).epsilon(1e-14));
  }
}

TEST_CASE("graphAttention: an adjacency that does not match the nodes is an error naming both") {
  Graph g("bad");
  Tensor x = g.input("x", {N, Fin});
  Tensor adj = g.input("adj", {N, N + 1});
  nn::Scope s(g, nn::Mode::Eval);
  std::string msg =
      testing::thrownMessage([&] { nn::graphAttention(s.child("gat"), x, adj, Fin, F); });
  CAPTURE(msg);
  CHECK(msg.find("GraphAttentionTest.cpp") != std::string::npos);
  CHECK(msg.find("nn.GATConv 'gat': the adjacency must be [N, N] = [4, 4] for x [4, 3], got "
                 "tensor<4 x 5 x f32>") != std::string::npos);
}

} // namespace frontend_nn_GraphAttentionTest
