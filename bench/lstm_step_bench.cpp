//===- bench/lstm_step_bench.cpp - one LSTM time step, compiled by weft ----===//
//
// One LSTM step written in the DSL, with every tensor an input:
//   x: [B, I], h, c: [B, H], Wx: [I, 4H], Wh: [H, 4H], b: [4H]
//   gates = x Wx + h Wh + b;  i, f, g, o = split(gates, 4, axis 1)
//   c2 = sigmoid(f) c + sigmoid(i) tanh(g);  h2 = sigmoid(o) tanh(c2);  return h2, c2
// compiled with the passes `canonicalize,fuse-elementwise` and cpu::compile, and timed per
// call of Executable::run (binding inputs, allocating results and scratch, two GEMMs, the
// fused gate math): the median of many runs after a warm-up, at each thread count
// (weft::setNumThreads). Before timing, each shape's outputs are checked once against the
// reference interpreter running the unoptimized graph: max |weft - reference| must be at most
// 1e-6 * sqrt(I + H) (f32 GEMM accumulation against the interpreter's double sums).
//
// The peer is PyTorch (bench/lstm_step_torch.py); bench/lstm_step.sh runs both and prints the
// ratio. --raw prints one line "B I H threads microseconds" per measurement for that script.
//
// Usage: weft-bench-lstm-step [--raw] [--threads N] [BxIxH ...]
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
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

struct StepShape {
  int64_t B, I, H;
};

std::unique_ptr<ir::Module> buildStep(const StepShape &s) {
  Graph g("lstm_step");
  Tensor x = g.input("x", {s.B, s.I});
  Tensor h = g.input("h", {s.B, s.H});
  Tensor c = g.input("c", {s.B, s.H});
  Tensor Wx = g.input("Wx", {s.I, 4 * s.H});
  Tensor Wh = g.input("Wh", {s.H, 4 * s.H});
  Tensor b = g.input("b", {4 * s.H});
  Tensor gates = matmul(x, Wx) + matmul(h, Wh) + b;
  auto [i, f, gg, o] = split<4>(gates, 1);
  Tensor c2 = sigmoid(f) * c + sigmoid(i) * tanh(gg);
  Tensor h2 = sigmoid(o) * tanh(c2);
  g.outputs({h2.named("h2"), c2.named("c2")});
  return g.build();
}

Array uniform(std::vector<int64_t> shape, double bound, std::mt19937_64 &rng) {
  Array a(DType::F32, std::move(shape));
  std::uniform_real_distribution<float> dist(static_cast<float>(-bound), static_cast<float>(bound));
  for (int64_t k = 0; k < a.numel(); ++k)
    a.data<float>()[k] = dist(rng);
  return a;
}

/// Inputs in argument order; weights scaled by 1/sqrt(fan-in) so that the gates are O(1).
std::vector<Array> makeInputs(const StepShape &s) {
  std::mt19937_64 rng(7);
  std::vector<Array> in;
  in.push_back(uniform({s.B, s.I}, 1.0, rng));
  in.push_back(uniform({s.B, s.H}, 1.0, rng));
  in.push_back(uniform({s.B, s.H}, 1.0, rng));
  in.push_back(uniform({s.I, 4 * s.H}, 1.0 / std::sqrt(static_cast<double>(s.I)), rng));
  in.push_back(uniform({s.H, 4 * s.H}, 1.0 / std::sqrt(static_cast<double>(s.H)), rng));
  in.push_back(uniform({4 * s.H}, 0.1, rng));
  return in;
}

/// Checks weft's h2 and c2 against the reference interpreter on the unoptimized graph.
bool checkAgainstReference(const StepShape &s, const cpu::Executable &exe,
                           const std::vector<Array> &in, bool quiet) {
  auto module = buildStep(s);
  auto want = reference::run(*module->functions().front(), in);
  auto got = exe.run("lstm_step", in);
  if (!want || !got) {
    fmt::print(stderr, "error: {}\n", (!want ? want.diag() : got.diag()).str());
    return false;
  }
  double err = 0;
  for (size_t r = 0; r < 2; ++r)
    for (int64_t k = 0; k < (*want)[r].numel(); ++k)
      err = std::max(err, std::fabs(static_cast<double>((*got)[r].data<float>()[k]) -
                                    (*want)[r].data<float>()[k]));
  double tol = 1e-6 * std::sqrt(static_cast<double>(s.I + s.H));
  bool ok = err <= tol;
  if (!quiet || !ok)
    fmt::print(ok ? stdout : stderr,
               "B={} I={} H={}: max |weft - reference| over h2, c2 = {:.2e} (tolerance {:.2e}){}\n",
               s.B, s.I, s.H, err, tol, ok ? "" : "  WRONG");
  return ok;
}

/// Median microseconds per step of `exe` at `threads` threads; about 0.5 s of runs.
double microsPerStep(const cpu::Executable &exe, const std::vector<Array> &in, int threads,
                     int &runs) {
  setNumThreads(threads);
  bool ok = true;
  auto step = [&] { ok = exe.run("lstm_step", in).isOk() && ok; };
  double seconds = medianOverBudget(step, 0.5, 20, 5000, runs);
  if (!ok)
    throw Error(err("lstm_step: a timed run failed"));
  return seconds * 1e6;
}

} // namespace

int main(int argc, char **argv) try {
  bool raw = false;
  std::vector<int> threadCounts = {1, 2};
  std::vector<StepShape> shapes;
  for (int k = 1; k < argc; ++k) {
    StepShape s{};
    if (std::strcmp(argv[k], "--raw") == 0) {
      raw = true;
    } else if (std::strcmp(argv[k], "--threads") == 0 && k + 1 < argc) {
      threadCounts = {std::atoi(argv[++k])};
    } else if (std::sscanf(argv[k], "%ldx%ldx%ld", &s.B, &s.I, &s.H) == 3 && s.B > 0 && s.I > 0 &&
               s.H > 0) {
      shapes.push_back(s);
    } else {
      fmt::print(stderr, "usage: weft-bench-lstm-step [--raw] [--threads N] [BxIxH ...]\n");
      return 2;
    }
  }
  if (shapes.empty())
    shapes = {{64, 256, 256}, {32, 512, 512}, {64, 128, 1024}, {1, 256, 256}, {128, 512, 512}};
  if (!raw)
    fmt::print("weft LSTM step (DSL; passes canonicalize,fuse-elementwise; cpu::compile): median "
               "microseconds per Executable::run\n");
  bool ok = true;
  std::vector<std::string> rows;
  for (const StepShape &s : shapes) {
    auto module = buildStep(s);
    passes::PassManager pm(std::cerr);
    pm.addPipeline("canonicalize,fuse-elementwise").check();
    pm.run(*module).check();
    if (!raw) {
      std::string ops;
      for (const auto &op : module->functions().front()->body().ops())
        ops += (ops.empty() ? "" : ", ") + std::string(op->name());
      fmt::print("B={} I={} H={}: ops after the passes: {}\n", s.B, s.I, s.H, ops);
    }
    auto exe = cpu::compile(*module).take();
    std::vector<Array> in = makeInputs(s);
    if (!checkAgainstReference(s, *exe, in, raw)) {
      ok = false;
      continue;
    }
    for (int threads : threadCounts) {
      int runs = 0;
      double us = microsPerStep(*exe, in, threads, runs);
      double gflops = 2.0 * static_cast<double>(s.B) * static_cast<double>(s.I + s.H) *
                      static_cast<double>(4 * s.H) / us * 1e-3;
      if (raw)
        fmt::print("{} {} {} {} {:.2f}\n", s.B, s.I, s.H, threads, us);
      else
        rows.push_back(fmt::format("{:>5} {:>5} {:>5} {:>3} {:>10.1f} {:>9.1f} {:>6}", s.B, s.I,
                                   s.H, threads, us, gflops, runs));
    }
  }
  if (!raw) {
    fmt::print("{:>5} {:>5} {:>5} {:>3} {:>10} {:>9} {:>6}\n", "B", "I", "H", "thr", "us/step",
               "GFLOP/s", "runs");
    for (const std::string &r : rows)
      fmt::print("{}\n", r);
  }
  return ok ? 0 : 1;
} catch (const Error &e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
