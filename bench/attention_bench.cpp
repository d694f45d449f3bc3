//===- bench/attention_bench.cpp - multi-head attention, compiled by weft -===//
//
// Scaled dot-product attention written as a user writes it in the DSL:
//   q, k, v: [B, H, T, d]
//   s = matmul(q, transpose(k)) * (1 / sqrt(d));  causal: s = select(i >= j, s, -inf)
//   o = matmul(softmax(s, axis 3), v)                                    [B, H, T, d]
// compiled with the optimize pipeline (fuse-attention makes it one `attention` op), and for
// training with the train pipeline on the loss sum(o * r) (r: [B, H, T, d] given), whose
// gradient function returns the loss and dq, dk, dv (and dr = o).
//
// Before timing, the compiled functions are checked against the reference interpreter running
// the unfused graph on a small shape (B 2, H 2, T 37, d 16: T not a multiple of any tile).
// Per measurement it reports the median microseconds per Executable::run and memory: the
// buffer plan's peak (arena and results, what weft allocates for one call) and the growth of
// the process's resident set from before the first call to the end (the high-water mark reset
// after setup, through /proc/self/clear_refs), which is how attention_torch.py measures PyTorch.
//
// --raw prints "B H T d causal train threads microseconds plan_bytes rss_bytes" per line
// (bench/compare.py's attention suite).
//
// Usage: weft-bench-attention [--raw] [--threads N] [--causal] [--train] [BxHxTxD ...]
//
//===----------------------------------------------------------------------===//
#include "analysis/MemoryReport.h"
#include "backends/cpu/Aot.h"
#include "backends/cpu/CpuBackend.h"
#include "backends/cpu/Scratch.h"
#include "backends/reference/Interpreter.h"
#include "bench/BenchTiming.h"
#include "frontend/Weft.h"
#include "passes/PassManager.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <random>
#include <string>

using namespace weft;
using namespace weft::bench;

namespace {

struct BenchShape {
  int64_t B, H, T, d;
};

/// The forward graph, or with `train` the loss sum(o * r) (the train pipeline adds its
/// gradient function, "attention_grad").
std::unique_ptr<ir::Module> build(const BenchShape &s, bool causal, bool train) {
  Graph g("attention");
  Tensor q = g.input("q", {s.B, s.H, s.T, s.d});
  Tensor k = g.input("k", {s.B, s.H, s.T, s.d});
  Tensor v = g.input("v", {s.B, s.H, s.T, s.d});
  Tensor scores = matmul(q, transpose(k, {0, 1, 3, 2})) * (1 / std::sqrt(double(s.d)));
  if (causal) {
    Tensor seen = ge(iota({s.T, s.T}, 0), iota({s.T, s.T}, 1));
    scores = select(seen, scores, full_like(scores, -std::numeric_limits<double>::infinity()));
  }
  Tensor o = matmul(softmax(scores, 3), v);
  if (!train) {
    g.output(o.named("o"));
    return g.build();
  }
  Tensor r = g.input("r", {s.B, s.H, s.T, s.d});
  g.output(sum(o * r, {0, 1, 2, 3}).named("loss"));
  return g.build();
}

void runPipeline(ir::Module &m, const char *pipeline) {
  passes::PassManager pm(std::cerr);
  pm.addPipeline(pipeline).check();
  pm.run(m).check();
}

const char *function(bool train) { return train ? "attention_grad" : "attention"; }

std::vector<Array> makeInputs(const BenchShape &s, bool train) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<Array> in;
  for (int a = 0; a < (train ? 4 : 3); ++a) {
    Array x(DType::F32, {s.B, s.H, s.T, s.d});
    for (int64_t i = 0; i < x.numel(); ++i)
      x.data<float>()[i] = d(rng);
    in.push_back(std::move(x));
  }
  return in;
}

/// The compiled, fused graph against the interpreter on the unfused one, at a small shape.
bool checkSmall(bool causal, bool train) {
  BenchShape s{2, 2, 37, 16};
  auto fused = build(s, causal, train), plain = build(s, causal, train);
  runPipeline(*fused, train ? "train" : "optimize");
  if (train)
    runPipeline(*plain, "autodiff");
  std::vector<Array> in = makeInputs(s, train);
  auto want = reference::run(*plain->function(function(train)), in).take();
  auto exe = cpu::compile(*fused).take();
  auto got = exe->run(function(train), in).take();
  for (size_t r = 0; r < want.size(); ++r) {
    double scale = 1, diff = 0;
    for (int64_t i = 0; i < want[r].numel(); ++i)
      scale = std::max(scale, std::fabs(want[r].getDouble(i)));
    for (int64_t i = 0; i < want[r].numel(); ++i)
      diff = std::max(diff, std::fabs(got[r].getDouble(i) - want[r].getDouble(i)));
    if (!(diff <= 1e-4 * scale)) {
      fmt::print(stderr,
                 "causal {} train {}: result {} differs from the reference by {:.2e}  "
                 "WRONG\n",
                 causal, train, r, diff);
      return false;
    }
  }
  return true;
}

/// A line of /proc/self/status ("VmRSS", "VmHWM") in bytes; 0 where there is none.
int64_t statusBytes(const std::string &key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key + ":", 0) == 0)
      return std::stoll(line.substr(key.size() + 1)) * 1024;
  return 0;
}

/// Resets the resident high-water mark; false where the kernel does not allow it.
bool resetHighWater() {
  std::ofstream f("/proc/self/clear_refs");
  return static_cast<bool>(f << "5");
}

} // namespace

int main(int argc, char **argv) try {
  bool raw = false, causal = false, train = false;
  std::vector<int> threadCounts = {1, 2};
  std::vector<BenchShape> shapes;
  for (int a = 1; a < argc; ++a) {
    BenchShape s{};
    if (std::strcmp(argv[a], "--raw") == 0) {
      raw = true;
    } else if (std::strcmp(argv[a], "--causal") == 0) {
      causal = true;
    } else if (std::strcmp(argv[a], "--train") == 0) {
      train = true;
    } else if (std::strcmp(argv[a], "--threads") == 0 && a + 1 < argc) {
      threadCounts = {std::atoi(argv[++a])};
    } else if (std::sscanf(argv[a], "%ldx%ldx%ldx%ld", &s.B, &s.H, &s.T, &s.d) == 4 && s.B > 0 &&
               s.H > 0 && s.T > 0 && s.d > 0) {
      shapes.push_back(s);
    } else {
      fmt::print(stderr, "usage: weft-bench-attention [--raw] [--threads N] [--causal] [--train] "
                         "[BxHxTxD ...]\n");
      return 2;
    }
  }
  if (shapes.empty())
    shapes = {{8, 8, 512, 64}, {8, 8, 2048, 64}};
  if (!checkSmall(causal, train))
    return 1;
  if (!raw)
    fmt::print("weft attention{}{}: median microseconds per Executable::run; plan = the buffer "
               "plan's peak, rss = resident growth over the calls\n{:>3} {:>3} {:>5} {:>4} {:>3} "
               "{:>12} {:>10} {:>10}\n",
               causal ? ", causal" : "", train ? ", forward + backward" : "", "B", "H", "T", "d",
               "thr", "us", "plan MiB", "rss MiB");
  for (const BenchShape &s : shapes) {
    auto module = build(s, causal, train);
    runPipeline(*module, train ? "train" : "optimize");
    auto exe = cpu::compile(*module).take();
    const ir::Function *fn = module->function(function(train));
    auto plan = analysis::reportMemory(
        analysis::BufferPlan(*fn, cpu::scratchModel(cpu::targetVectorBytes("native", "").take())),
        {});
    int64_t planBytes = plan ? static_cast<int64_t>(plan->peakBytes) : -1;
    std::vector<Array> in = makeInputs(s, train);
    for (int threads : threadCounts) {
      setNumThreads(threads);
      bool measured = resetHighWater();
      int64_t before = statusBytes("VmRSS");
      int runs = 0;
      double us =
          medianOverBudget([&] { exe->run(function(train), in).take(); }, 0.5, 3, 1000, runs) * 1e6;
      int64_t rss = measured ? statusBytes("VmHWM") - before : -1;
      if (raw)
        fmt::print("{} {} {} {} {} {} {} {:.1f} {} {}\n", s.B, s.H, s.T, s.d, int(causal),
                   int(train), threads, us, planBytes, rss);
      else
        fmt::print("{:>3} {:>3} {:>5} {:>4} {:>3} {:>12.1f} {:>10.1f} {:>10.1f}\n", s.B, s.H, s.T,
                   s.d, threads, us, double(planBytes) / (1 << 20), double(rss) / (1 << 20));
    }
  }
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
