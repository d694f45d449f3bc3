//===- bench/lstm_seq_bench.cpp - an LSTM layer over a sequence, compiled by weft -===//
//
// One LSTM layer over T steps, written in the DSL as the usual one-matmul cell:
//   xs: [T, B, I], h0, c0: [B, H], W: [I + H, 4H], b: [4H]
//   scan over xs:  z = [x_t, h] W + b;  i, f, g, o = split(z, 4, axis 1)
//                  c2 = sigmoid(f) c + sigmoid(i) tanh(g);  h2 = sigmoid(o) tanh(c2)
//   returns hT, cT and the stacked h2 (T x B x H), as torch.nn.LSTM does.
// It is compiled twice, and both are timed per call of Executable::run at each thread count:
//   plain:   canonicalize,licm,fuse-elementwise,dce (one [x_t, h] GEMM per step);
//   hoisted: optimize, where fuse-lstm makes the cell one lstm_sequence, which the cpu backend
//            runs as its own kernel (backends/cpu/EmitLstm.cpp: x's GEMM over all steps, h's
//            per step with the cell's update on its output tile).
// Before timing, both are checked against the reference interpreter on a small shape
// (T=5, B=3, I=4, H=6), and against each other at the benchmark shape (they sum x's and h's
// products in different orders: max |difference| at most 1e-6 * sqrt(I + H)).
//
// The peer is PyTorch's nn.LSTM (bench/lstm_seq_torch.py); bench/lstm_seq.sh runs both and
// prints the ratios. --raw prints "T B I H threads plain_us hoisted_us" per measurement.
//
// Usage: weft-bench-lstm-seq [--raw] [--threads N] [TxBxIxH ...]
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "bench/BenchArrays.h"
#include "bench/BenchTiming.h"
#include "frontend/Weft.h"
#include "passes/PassManager.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <string>

using namespace weft;
using namespace weft::bench;

namespace {

struct SeqShape {
  int64_t T, B, I, H;
};

std::unique_ptr<ir::Module> buildLayer(const SeqShape &s) {
  Graph g("lstm_seq");
  Tensor xs = g.input("xs", {s.T, s.B, s.I});
  Tensor h0 = g.input("h0", {s.B, s.H});
  Tensor c0 = g.input("c0", {s.B, s.H});
  Tensor W = g.input("W", {s.I + s.H, 4 * s.H});
  Tensor b = g.input("b", {4 * s.H});
  auto [hT, cT, hs] = scan(xs, {h0, c0}, [&](Tensor x, Tensor h, Tensor c) {
    auto [i, f, gg, o] = split<4>(matmul(concat({x, h}, 1), W) + b, 1);
    Tensor c2 = sigmoid(f) * c + sigmoid(i) * tanh(gg);
    Tensor h2 = sigmoid(o) * tanh(c2);
    return carry(h2, c2).emit(h2);
  });
  g.outputs({hT.named("hT"), cT.named("cT"), hs.named("hs")});
  return g.build();
}

std::unique_ptr<cpu::Executable> compileWith(const SeqShape &s, const char *pipeline) {
  auto module = buildLayer(s);
  passes::PassManager pm(std::cerr);
  pm.addPipeline(pipeline).check();
  pm.run(*module).check();
  return cpu::compile(*module).take();
}

/// Inputs in argument order, seeded; W scaled by 1/sqrt(I + H) so that the gates are O(1).
std::vector<Array> makeInputs(const SeqShape &s) {
  std::mt19937_64 rng(11);
  auto uniform = [&](std::vector<int64_t> shape, double bound) {
    Array a(DType::F32, std::move(shape));
    std::uniform_real_distribution<float> d(static_cast<float>(-bound), static_cast<float>(bound));
    for (int64_t k = 0; k < a.numel(); ++k)
      a.data<float>()[k] = d(rng);
    return a;
  };
  return {uniform({s.T, s.B, s.I}, 1.0), uniform({s.B, s.H}, 1.0), uniform({s.B, s.H}, 1.0),
          uniform({s.I + s.H, 4 * s.H}, 1.0 / std::sqrt(static_cast<double>(s.I + s.H))),
          uniform({4 * s.H}, 0.1)};
}

std::vector<Array> run(const cpu::Executable &exe, const std::vector<Array> &in) {
  return exe.run("lstm_seq", in).take();
}

/// Both variants against the interpreter on a small shape; false (with a message) if either is
/// off by more than 1e-6 * sqrt(I + H) per step.
bool checkSmall() {
  SeqShape s{5, 3, 4, 6};
  std::vector<Array> in = makeInputs(s);
  auto module = buildLayer(s);
  auto want = reference::run(*module->functions().front(), in).take();
  double tol = 1e-6 * std::sqrt(static_cast<double>(s.I + s.H)) * static_cast<double>(s.T);
  bool ok = true;
  for (const char *p : {"canonicalize,licm,fuse-elementwise,dce", "optimize"}) {
    double d = maxDiff(run(*compileWith(s, p), in), want);
    if (d > tol) {
      fmt::print(stderr, "pipeline {}: max |weft - reference| = {:.2e} > {:.2e}  WRONG\n", p, d,
                 tol);
      ok = false;
    }
  }
  return ok;
}

/// Median microseconds per call of `exe` at `threads` threads; about 0.5 s of runs.
double microsPerCall(const cpu::Executable &exe, const std::vector<Array> &in, int threads) {
  setNumThreads(threads);
  int runs = 0;
  return medianOverBudget([&] { run(exe, in); }, 0.5, 5, 2000, runs) * 1e6;
}

} // namespace

int main(int argc, char **argv) try {
  bool raw = false;
  std::vector<int> threadCounts = {1, 2};
  std::vector<SeqShape> shapes;
  for (int k = 1; k < argc; ++k) {
    SeqShape s{};
    if (std::strcmp(argv[k], "--raw") == 0) {
      raw = true;
    } else if (std::strcmp(argv[k], "--threads") == 0 && k + 1 < argc) {
      threadCounts = {std::atoi(argv[++k])};
    } else if (std::sscanf(argv[k], "%ldx%ldx%ldx%ld", &s.T, &s.B, &s.I, &s.H) == 4 && s.T > 0 &&
               s.B > 0 && s.I > 0 && s.H > 0) {
      shapes.push_back(s);
    } else {
      fmt::print(stderr, "usage: weft-bench-lstm-seq [--raw] [--threads N] [TxBxIxH ...]\n");
      return 2;
    }
  }
  if (shapes.empty())
    shapes = {{100, 64, 256, 256}, {100, 32, 512, 512}, {100, 1, 256, 256}};
  if (!checkSmall())
    return 1;
  if (!raw)
    fmt::print("weft LSTM layer over T steps: median microseconds per Executable::run; plain = "
               "one [x, h] GEMM per step, hoisted = the optimize pipeline\n{:>4} {:>4} {:>5} "
               "{:>5} {:>3} {:>10} {:>10} {:>8}\n",
               "T", "B", "I", "H", "thr", "plain", "hoisted", "speedup");
  for (const SeqShape &s : shapes) {
    auto plain = compileWith(s, "canonicalize,licm,fuse-elementwise,dce");
    auto hoisted = compileWith(s, "optimize");
    std::vector<Array> in = makeInputs(s);
    double d = maxDiff(run(*plain, in), run(*hoisted, in));
    double tol = 1e-6 * std::sqrt(static_cast<double>(s.I + s.H));
    if (d > tol) {
      fmt::print(stderr, "{}x{}x{}x{}: plain and hoisted differ by {:.2e} > {:.2e}  WRONG\n", s.T,
                 s.B, s.I, s.H, d, tol);
      return 1;
    }
    for (int threads : threadCounts) {
      double p = microsPerCall(*plain, in, threads), h = microsPerCall(*hoisted, in, threads);
      if (raw)
        fmt::print("{} {} {} {} {} {:.1f} {:.1f}\n", s.T, s.B, s.I, s.H, threads, p, h);
      else
        fmt::print("{:>4} {:>4} {:>5} {:>5} {:>3} {:>10.1f} {:>10.1f} {:>7.2f}x\n", s.T, s.B, s.I,
                   s.H, threads, p, h, p / h);
    }
  }
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
