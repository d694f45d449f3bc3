//===- bench/matmul_bench.cpp - weft's f32 matmul against cblas_sgemm ------===//
//
// For each shape, compiles one weft function `@mm(a: M x K, b: K x N) -> M x N` (f32) with
// cpu::compile, runs it and OpenBLAS's cblas_sgemm on the same inputs in the same process
// (after a warm-up, the median of several runs each, in alternating blocks: BenchTiming.h),
// checks weft's result against OpenBLAS's and prints GFLOP/s for both and their ratio. Each shape
// runs with 1 and with 2 threads on both sides (weft::setNumThreads, openblas_set_num_threads), and
// the 2-thread rows also print each side's speedup over its 1-thread time. The weft time is that of
// Executable::run: binding inputs, allocating the result and the packing scratch, and the GEMM
// itself. The last two columns are each side's GFLOP/s as a fraction of the host's f32 peak at the
// same thread count, measured at start-up by bench/PeakFlops.cpp (independent FMA chains on
// the widest vectors the CPU has).
//
// Usage: weft-bench-matmul [MxNxK ...]   (default: the shapes below)
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "bench/BenchTiming.h"
#include "bench/PeakFlops.h"
#include "ir/Parser.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

#include <algorithm>
#include <cblas.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace {

using namespace weft;
using bench::Clock;
using bench::seconds;

struct Shape {
  int64_t M, N, K;
};

/// GFLOP/s of weft and OpenBLAS at one thread count.
struct Rates {
  double weft = 0, blas = 0;
};

/// Benchmarks one shape with `threads` threads on both sides; false on an error or a wrong
/// result. `base`, when set, holds the 1-thread rates the speedups are printed against; `peak`
/// is the measured f32 peak GFLOP/s at `threads` threads.
bool benchShape(const Shape &s, int threads, Rates &rates, const Rates *base, double peak) {
  setNumThreads(threads);
  openblas_set_num_threads(threads);
  std::string text = fmt::format(
      "func @mm(%a: tensor<{0} x {2} x f32>, %b: tensor<{2} x {1} x f32>) -> (tensor<{0} x {1} x "
      "f32>) {{\n  %c = matmul %a, %b : tensor<{0} x {1} x f32>\n  return %c\n}}\n",
      s.M, s.N, s.K);
  auto module = ir::parseModule(text);
  if (!module) {
    fmt::print(stderr, "error: {}\n", module.diag().str());
    return false;
  }
  auto exe = cpu::compile(**module);
  if (!exe) {
    fmt::print(stderr, "error: {}\n", exe.diag().str());
    return false;
  }
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<Array> in{Array(DType::F32, {s.M, s.K}), Array(DType::F32, {s.K, s.N})};
  for (Array &a : in)
    for (int64_t i = 0; i < a.numel(); ++i)
      a.data<float>()[i] = dist(rng);
  std::vector<float> ref(static_cast<size_t>(s.M * s.N));
  auto sgemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(s.M),
                static_cast<int>(s.N), static_cast<int>(s.K), 1.0f, in[0].data<float>(),
                static_cast<int>(s.K), in[1].data<float>(), static_cast<int>(s.N), 0.0f, ref.data(),
                static_cast<int>(s.N));
  };
  std::vector<Array> got;
  bool ok = true;
  auto weftRun = [&] {
    auto r = (*exe)->run("mm", in);
    if (!r) {
      fmt::print(stderr, "error: {}\n", r.diag().str());
      ok = false;
      return;
    }
    got = std::move(*r);
  };

  // Warm-up (and a time estimate that sets the number of runs: about 0.3 s per side).
  auto t0 = Clock::now();
  weftRun();
  auto t1 = Clock::now();
  sgemm();
  auto t2 = Clock::now();
  if (!ok)
    return false;
  double est = std::max(seconds(t0, t1), seconds(t1, t2));
  int runs = static_cast<int>(std::clamp(0.3 / std::max(est, 1e-6), 5.0, 200.0));
  auto [tw, tb] = bench::medianSecondsInRounds(runs, weftRun, sgemm);
  if (!ok)
    return false;

  const float *w = got[0].data<float>();
  double maxDiff = 0, maxRef = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    maxDiff = std::max(maxDiff, std::fabs(static_cast<double>(w[i]) - ref[i]));
    maxRef = std::max(maxRef, std::fabs(static_cast<double>(ref[i])));
  }
  double relErr = maxRef > 0 ? maxDiff / maxRef : maxDiff;
  double flops = 2.0 * static_cast<double>(s.M) * static_cast<double>(s.N) * s.K;
  double gw = flops / tw * 1e-9, gb = flops / tb * 1e-9;
  bool good = relErr <= 1e-5 * std::sqrt(static_cast<double>(s.K));
  rates = {gw, gb};
  std::string speedup = base ? fmt::format("{:>7.2f} {:>7.2f}", gw / base->weft, gb / base->blas)
                             : fmt::format("{:>7} {:>7}", "", "");
  fmt::print("{:>5} {:>5} {:>5} {:>3} {:>10.1f} {:>10.1f} {:>7.2f} {} {:>5} {:>10.2e} {:>7.2f} "
             "{:>7.2f}{}\n",
             s.M, s.N, s.K, threads, gw, gb, gw / gb, speedup, runs, relErr, gw / peak, gb / peak,
             good ? "" : "  WRONG");
  return good;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<Shape> shapes;
  for (int i = 1; i < argc; ++i) {
    Shape s{};
    if (std::sscanf(argv[i], "%ldx%ldx%ld", &s.M, &s.N, &s.K) != 3 || s.M <= 0 || s.N <= 0 ||
        s.K <= 0) {
      fmt::print(stderr, "usage: weft-bench-matmul [MxNxK ...]\n");
      return 2;
    }
    shapes.push_back(s);
  }
  if (shapes.empty())
    shapes = {{256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024}, {2048, 2048, 2048},
              {64, 1024, 256}, {32, 2048, 512}, {1, 1024, 256}};
  fmt::print(
      "weft f32 matmul (generated packed GEMM, weft::setNumThreads(thr)) vs OpenBLAS "
      "cblas_sgemm (openblas_set_num_threads(thr));\nmedian of `runs` runs in alternating "
      "blocks after a warm-up; ratio = weft / BLAS; x1 = speedup over 1 thread; err = max|weft - "
      "openblas| / max|openblas|;\nweft/pk, BLAS/pk = GFLOP/s over the measured f32 "
      "peak at thr threads\n");
  bench::PeakFlops peak1 = bench::measurePeakFlops(1), peak2 = bench::measurePeakFlops(2);
  fmt::print("measured f32 peak ({} FMA chains): {:.1f} GFLOP/s at 1 thread, {:.1f} at 2\n",
             peak1.isa, peak1.gflops, peak2.gflops);
  if (peak2.gflops < 1.5 * peak1.gflops)
    fmt::print("warning: 2 threads reach only {:.2f}x the 1-thread peak: another process holds a "
               "core, so 2-thread rows are noisy and their /pk overstated\n",
               peak2.gflops / peak1.gflops);
  fmt::print("{:>5} {:>5} {:>5} {:>3} {:>10} {:>10} {:>7} {:>7} {:>7} {:>5} {:>10} {:>7} {:>7}\n",
             "M", "N", "K", "thr", "weft GF/s", "BLAS GF/s", "ratio", "weft x1", "BLAS x1", "runs",
             "err", "weft/pk", "BLAS/pk");
  bool ok = true;
  for (const Shape &s : shapes) {
    Rates one, two;
    ok = benchShape(s, 1, one, nullptr, peak1.gflops) && ok;
    ok = benchShape(s, 2, two, &one, peak2.gflops) && ok;
  }
  return ok ? 0 : 1;
}
