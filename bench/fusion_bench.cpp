//===- bench/fusion_bench.cpp - a fused elementwise chain vs the unfused ops -===//
//
// y = relu(x * a + b) * c + x on N f32 elements (default 2^25, 128 MiB per array: far beyond
// cache, so the chain is memory-bound), in two cases: x [R x C] with per-column a, b, c [C],
// and x [N] with scalar a, b, c. The same DSL graph is compiled twice with cpu::compile:
// unfused (no pass: every op its own loop nest and buffer) and after `fuse-elementwise` (one
// fusion, one loop nest, in parallel chunks through weft_parallel_for).
//
// Bytes moved are the minimum traffic of each variant, counted from its IR: every top-level op
// reads its operands once and writes its results once. Fused that is x in and y out; unfused it
// is what each op (broadcasts included) reads and writes. GB/s = bytes / median time; the
// peers, measured in the same run on the same machine, are a plain C++ STREAM triad
// (y = x * s + z), memcpy, and the triad into a freshly allocated zero-filled array, which is
// what Executable::run does with its result (new + memset + the kernel, page faults included).
// Each row is at 1 and 2 threads (weft::setNumThreads; std::threads for the peers); the median
// of `runs` interleaved runs after two warm-up rounds.
//
// Everything runs twice, with two allocator settings. First glibc's default: an array this big
// is a fresh mmap on every call, so each call of run() page-faults its result (and unfused,
// its scratch arena) in, which is what one call from a user costs. Then with freed memory
// kept mapped (mallopt M_MMAP_MAX = 0, M_TRIM_THRESHOLD = INT_MAX), as in a long-running
// process that calls the same function again and again: the same bytes come back, no faults.
//
// Usage: weft-bench-fusion [N] [runs]
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "bench/BenchTiming.h"
#include "bench/Stream.h"
#include "frontend/Weft.h"
#include "passes/PassManager.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <malloc.h>
#include <memory>
#include <new>
#include <random>

using namespace weft;
using namespace weft::bench;

namespace {

/// One case of the chain: x's shape and the shape a, b and c broadcast from.
struct Case {
  std::string name;
  Shape xShape, vecShape;
};

/// A compiled variant of the chain.
struct Variant {
  std::string name;
  std::unique_ptr<cpu::Executable> exe;
  double bytes = 0;   ///< minimum traffic of one call
  std::string opList; ///< the top-level ops, "mul, add, ..."
};

/// What the top-level ops of `f` read and write, each operand and result once.
double minimumBytes(const ir::Function &f, std::string &opList) {
  double bytes = 0;
  for (const auto &op : f.body().ops()) {
    if (op->kind() == ir::OpKind::Return)
      continue;
    opList += (opList.empty() ? "" : ", ") + std::string(op->name());
    auto add = [&](const ir::Value *v) {
      bytes += static_cast<double>(v->type().numElements().size()) *
               static_cast<double>(dtypeBytes(v->type().dtype()));
    };
    for (const ir::Value *v : op->operands())
      add(v);
    for (const ir::Value *v : op->results())
      add(v);
  }
  return bytes;
}

std::unique_ptr<ir::Module> buildChain(const Case &c) {
  Graph g("chain");
  Tensor x = g.input("x", c.xShape);
  Tensor a = g.input("a", c.vecShape), b = g.input("b", c.vecShape), s = g.input("c", c.vecShape);
  g.output(relu(x * a + b) * s + x);
  return g.build();
}

Variant compileVariant(const Case &c, bool fuse) {
  std::unique_ptr<ir::Module> m = buildChain(c);
  if (fuse) {
    passes::PassManager pm(std::cerr);
    pm.addPipeline("fuse-elementwise").check();
    pm.run(*m).check();
  }
  Variant v;
  v.name = fuse ? "weft fused" : "weft unfused";
  v.bytes = minimumBytes(*m->functions().front(), v.opList);
  v.exe = cpu::compile(*m).take();
  return v;
}

Array randomArray(const Shape &shape, uint64_t seed) {
  std::vector<int64_t> dims;
  for (const Dim &d : shape)
    dims.push_back(d.size());
  Array a(DType::F32, dims);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < a.numel(); ++i)
    a.data<float>()[i] = dist(rng);
  return a;
}

/// max |got - want| over all elements, where want is the chain computed by a plain C++ loop.
double maxError(const Array &got, const std::vector<Array> &in) {
  const float *x = in[0].data<float>();
  int64_t n = in[0].numel(), cols = in[1].numel();
  double err = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t j = i % cols;
    float a = in[1].data<float>()[j], b = in[2].data<float>()[j], c = in[3].data<float>()[j];
    float want = std::max(x[i] * a + b, 0.0f) * c + x[i];
    err = std::max(err, std::fabs(static_cast<double>(got.data<float>()[i]) - want));
  }
  return err;
}

/// Frees what `new (align_val_t(64)) float[]` gave, as Array does.
struct AlignedFree {
  void operator()(float *p) const { ::operator delete[](p, std::align_val_t(64)); }
};

bool benchCase(const Case &c, int runs) {
  Variant unfused = compileVariant(c, /*fuse=*/false), fused = compileVariant(c, /*fuse=*/true);
  std::vector<Array> in;
  in.push_back(randomArray(c.xShape, 1));
  for (uint64_t k = 0; k < 3; ++k)
    in.push_back(randomArray(c.vecShape, 2 + k));
  const int64_t n = in[0].numel();
  fmt::print("\ncase {}: x {}, a b c {}; N = {} f32 ({:.0f} MiB per array)\n", c.name,
             ir::Type(c.xShape, DType::F32).shapeStr(), ir::Type(c.vecShape, DType::F32).shapeStr(),
             n, static_cast<double>(n) * 4 / (1 << 20));
  fmt::print("  unfused ops: {}\n  fused ops:   {}\n", unfused.opList, fused.opList);

  // Correctness, once: both variants against the chain in plain C++ (same f32 ops, same order).
  bool ok = true;
  for (Variant *v : {&unfused, &fused}) {
    auto r = v->exe->run("chain", in);
    if (!r) {
      fmt::print(stderr, "error: {}: {}\n", v->name, r.diag().str());
      return false;
    }
    double err = maxError((*r)[0], in);
    fmt::print("  {}: max |weft - C++ loop| = {:.3g}{}\n", v->name, err, err > 0 ? "  WRONG" : "");
    ok = ok && err == 0;
  }

  // The peers' arrays, touched once so that their pages exist before timing.
  std::vector<float> py(static_cast<size_t>(n), 0.f), pz(static_cast<size_t>(n), 1.f);
  const float *px = in[0].data<float>();
  const double triadBytes = 12.0 * static_cast<double>(n), copyBytes = 8.0 * static_cast<double>(n);

  fmt::print("  {:>3} {:<24} {:>9} {:>9} {:>8} {:>8} {:>8}\n", "thr", "variant", "ms", "MB", "GB/s",
             "/triad", "/memcpy");
  double fusedSeconds[3] = {};
  for (int threads : {1, 2}) {
    setNumThreads(threads);
    struct Job {
      std::string name;
      double bytes;
      std::function<void()> run;
    };
    std::vector<Job> jobs;
    for (Variant *v : {&unfused, &fused})
      jobs.push_back({v->name, v->bytes, [&, v] {
                        auto r = v->exe->run("chain", in);
                        if (!r)
                          ok = false;
                      }});
    jobs.push_back({"C++ triad", triadBytes,
                    [&] { streamTriad(py.data(), px, pz.data(), 0.5f, n, threads); }});
    jobs.push_back({"memcpy", copyBytes, [&] { streamCopy(py.data(), px, n, threads); }});
    jobs.push_back({"C++ triad, fresh output", triadBytes, [&] {
                      std::unique_ptr<float[], AlignedFree> y(
                          new (std::align_val_t(64)) float[static_cast<size_t>(n)]);
                      std::memset(y.get(), 0, static_cast<size_t>(n) * sizeof(float));
                      streamTriad(y.get(), px, pz.data(), 0.5f, n, threads);
                    }});
    std::vector<std::vector<double>> times(jobs.size());
    // Warm-up: two rounds, so that the allocator's heap has grown to its steady layout.
    for (int w = 0; w < 2; ++w)
      for (Job &j : jobs)
        j.run();
    for (int r = 0; r < runs; ++r)
      for (size_t k = 0; k < jobs.size(); ++k)
        times[k].push_back(timeOnce(jobs[k].run));
    std::vector<double> rate(jobs.size());
    for (size_t k = 0; k < jobs.size(); ++k)
      rate[k] = jobs[k].bytes / median(times[k]) * 1e-9;
    for (size_t k = 0; k < jobs.size(); ++k) {
      fmt::print("  {:>3} {:<24} {:>9.2f} {:>9.0f} {:>8.2f} {:>8.2f} {:>8.2f}\n", threads,
                 jobs[k].name, median(times[k]) * 1e3, jobs[k].bytes * 1e-6, rate[k],
                 rate[k] / rate[2], rate[k] / rate[3]);
    }
    double tUnfused = median(times[0]), tFused = median(times[1]);
    fusedSeconds[threads] = tFused;
    fmt::print("  {:>3} fused/unfused speedup {:.2f}x; fused GB/s / C++ triad GB/s = {:.2f}\n",
               threads, tUnfused / tFused, rate[1] / rate[2]);
  }
  fmt::print("  fused, 2 threads vs 1: {:.2f}x\n", fusedSeconds[1] / fusedSeconds[2]);
  setNumThreads(0);
  return ok;
}

} // namespace

int main(int argc, char **argv) try {
  int64_t n = int64_t{1} << 25;
  int runs = 7;
  if (argc > 1)
    n = std::atoll(argv[1]);
  if (argc > 2)
    runs = std::atoi(argv[2]);
  constexpr int64_t kCols = 1024;
  if (n < kCols || n % kCols != 0 || runs < 1 || argc > 3) {
    fmt::print(stderr, "usage: weft-bench-fusion [N (a multiple of {})] [runs]\n", kCols);
    return 2;
  }
  fmt::print("weft-bench-fusion: y = relu(x * a + b) * c + x, f32; unfused = cpu::compile of the "
             "DSL graph, fused = after fuse-elementwise;\nmedian of {} interleaved runs after "
             "two warm-up rounds; MB = minimum traffic (each op's operands read once, results "
             "written once;\nSTREAM counting for the peers); /triad and /memcpy = this row's "
             "GB/s over the C++ triad's and memcpy's at the same thread count\n",
             runs);
  bool ok = true;
  for (bool keepPages : {false, true}) {
    if (keepPages) {
      // Large blocks then come from the heap and stay there after free: no page faults.
      mallopt(M_MMAP_MAX, 0);
      mallopt(M_TRIM_THRESHOLD, INT_MAX);
    }
    fmt::print("\n=== allocator: {} ===\n",
               keepPages ? "freed memory kept mapped (no page faults in run())"
                         : "glibc default (every call maps and faults in fresh pages)");
    ok = benchCase({"rows", {n / kCols, kCols}, {kCols}}, runs) && ok;
    ok = benchCase({"flat", {n}, {}}, runs) && ok;
  }
  return ok ? 0 : 1;
} catch (const Error &e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
