//===- bench/compile_time.cpp - IR to callable code, per pass -------------===//
//
// How long weft takes from a model written in the DSL to native code, for a
// 2-layer LSTM over T = 100 steps (hidden 128, input 64, batch symbolic): the
// forward graph, and the training graph (autodiff with BPTT, the train
// pipeline). A scan is compiled once, not once per step, so the time does not
// grow with T. Prints the pass timing tables and the totals; the target is
// under 1 s for each graph on these machines (issue 11).
//
//   weft-bench-compile-time
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "frontend/Weft.h"
#include "passes/PassManager.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

using namespace weft;

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

constexpr int64_t kT = 100, kIn = 64, kHidden = 128;
constexpr int kRounds = 3;

/// One LSTM layer over `xs` ([T, B, in]); returns the stacked hidden states.
Tensor lstmLayer(Graph &g, const char *name, Tensor xs, int64_t in, Dim B) {
  Tensor W = g.param(fmt::format("{}_W", name), {in + kHidden, 4 * kHidden}, init::xavier());
  Tensor b = g.param(fmt::format("{}_b", name), {4 * kHidden}, init::zeros());
  Tensor h0 = zeros({B, kHidden});
  auto [hT, cT, hs] = scan(xs, {h0, h0}, [&](Tensor x, Tensor h, Tensor c) {
    auto [i, f, gg, o] = split<4>(matmul(concat({x, h}, 1), W) + b, 1);
    Tensor c2 = sigmoid(f) * c + sigmoid(i) * tanh(gg);
    Tensor h2 = sigmoid(o) * tanh(c2);
    return carry(h2, c2).emit(h2);
  });
  return hs;
}

double runPipeline(ir::Module &m, const char *pipeline) {
  passes::PassManagerOptions opts;
  opts.timePasses = true;
  passes::PassManager pm(std::cout, opts);
  pm.addPipeline(pipeline).check();
  auto t = Clock::now();
  pm.run(m).check();
  double ms = msSince(t);
  std::cout << fmt::format("pipeline '{}':\n", pipeline);
  pm.printTimingReport(std::cout);
  return ms;
}

} // namespace

int main() try {
  auto t0 = Clock::now();
  Graph g("lstm2");
  Dim B = g.dim("B");
  Tensor xs = g.input("xs", {kT, B, kIn});
  Tensor target = g.input("target", {kT, B, kHidden});
  Tensor h1 = lstmLayer(g, "l1", xs, kIn, B);
  Tensor h2 = lstmLayer(g, "l2", h1, kHidden, B);
  g.output(mean(h2 * target, {0, 1, 2}).named("loss"));
  std::unique_ptr<ir::Module> forward = g.build();
  double buildMs = msSince(t0);

  std::unique_ptr<ir::Module> training = g.build();
  double fwdPassMs = runPipeline(*forward, "canonicalize");
  double trainPassMs = runPipeline(*training, "train");
  // LLVM's share, on one compile thread and on as many as compile() takes by default, in turns.
  cpu::CompileOptions one;
  one.compileThreads = 1;
  double fwdOne = 0, trainOne = 0, fwdAll = 0, trainAll = 0;
  for (int round = 0; round < kRounds; ++round) {
    fwdOne += cpu::compile(*forward, one).take()->compileMillis() / kRounds;
    fwdAll += cpu::compile(*forward).take()->compileMillis() / kRounds;
    trainOne += cpu::compile(*training, one).take()->compileMillis() / kRounds;
    trainAll += cpu::compile(*training).take()->compileMillis() / kRounds;
  }

  std::printf("\n2-layer LSTM, T = %lld, hidden %lld (B symbolic)\n", static_cast<long long>(kT),
              static_cast<long long>(kHidden));
  std::printf("LLVM+JIT: the mean of %d compiles, on 1 compile thread and on %u (the default)\n",
              kRounds, std::thread::hardware_concurrency());
  std::printf("%-28s %10s %14s %14s %10s\n", "graph", "passes ms", "LLVM 1 thr ms", "LLVM dflt ms",
              "total ms");
  std::printf("%-28s %10.1f %14.1f %14.1f %10.1f\n", "forward", fwdPassMs, fwdOne, fwdAll,
              fwdPassMs + fwdAll);
  std::printf("%-28s %10.1f %14.1f %14.1f %10.1f\n", "training (forward + BPTT)", trainPassMs,
              trainOne, trainAll, trainPassMs + trainAll);
  std::printf("(building the graph in the DSL took %.1f ms)\n", buildMs);
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
