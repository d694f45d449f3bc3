//===- examples/lstm_by_hand.cpp - an LSTM layer written with primitives --===//
//
// One LSTM layer over a time-major batch of padded sequences: concat [x, h],
// one matmul for the four gates, split, gate nonlinearities, and a scan over T
// with per-example lengths. Pattern fusion recognizes this computation as an
// LSTM (it matches the math, not a library call). Prints the IR (and writes it
// to argv[1] if given), then runs it with the reference interpreter when this
// build has one.
//
//===----------------------------------------------------------------------===//
#include "examples/ExampleSupport.h"

using namespace weft;

int main(int argc, char **argv) try {
  constexpr int64_t kIn = 16, kHidden = 32;
  Graph g("lstm");
  Dim B = g.dim("B"), T = g.dim("T");
  Tensor xs = g.input("xs", {T, B, kIn});
  Tensor lengths = g.input("lengths", {B}, DType::I32);
  Tensor W = g.param("W", {kIn + kHidden, 4 * kHidden}, init::xavier());
  Tensor bias = g.param("bias", {4 * kHidden}, init::zeros());

  Tensor h0 = zeros({B, kHidden}).named("h0");
  auto [hT, cT, hs] = scan(
      xs, {h0, h0},
      [&](Tensor x, Tensor h, Tensor c) {
        x.named("x"), h.named("h"), c.named("c"); // names for the IR dump
        Tensor z = matmul(concat({x, h}, 1), W) + bias;
        auto [i, f, gg, o] = split<4>(z, 1);
        Tensor c2 = (sigmoid(f) * c + sigmoid(i) * tanh(gg)).named("c2");
        Tensor h2 = (sigmoid(o) * tanh(c2)).named("h2");
        return carry(h2, c2).emit(h2);
      },
      ScanOptions().withLengths(lengths));
  g.outputs({hT.named("hT"), cT.named("cT"), hs.named("hs")});

  auto module = g.build();
  examples::emitIR(*module, argc, argv);

  std::vector<Array> inputs{examples::uniformArray({5, 3, kIn}, -1.0, 1.0, /*seed=*/7),
                            Array::of<int32_t>({3}, {5, 3, 1})};
  examples::runOnEveryBackend(*module, g.arguments(std::move(inputs), g.initParams(42)),
                              {"hT", "cT", "hs"});
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
