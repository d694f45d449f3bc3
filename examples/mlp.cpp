//===- examples/mlp.cpp - a two-layer perceptron in the weft DSL ----------===//
//
// Builds B x 784 -> 256 (relu) -> 10 (softmax), prints its IR (and writes it to
// argv[1] if given, for weft-opt), then runs it on seeded inputs with the
// reference interpreter when this build has one.
//
//===----------------------------------------------------------------------===//
#include "examples/ExampleSupport.h"

using namespace weft;

int main(int argc, char **argv) try {
  Graph g("mlp");
  Dim B = g.dim("B");
  Tensor x = g.input("x", {B, 784});
  Tensor W1 = g.param("W1", {784, 256}, init::he());
  Tensor b1 = g.param("b1", {256}, init::zeros());
  Tensor W2 = g.param("W2", {256, 10}, init::xavier());
  Tensor b2 = g.param("b2", {10}, init::zeros());

  Tensor h = relu(matmul(x, W1) + b1).named("h");
  Tensor probs = softmax(matmul(h, W2) + b2, /*axis=*/1).named("probs");
  g.output(probs);

  auto module = g.build();
  examples::emitIR(*module, argc, argv);

  std::vector<Array> args =
      g.arguments({examples::uniformArray({2, 784}, 0.0, 1.0, /*seed=*/7)}, g.initParams(42));
  examples::runOnEveryBackend(*module, args, {"probs"});
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
