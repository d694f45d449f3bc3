//===- bench/aot_workspace.cpp - AOT calls with and without a kept workspace -===//
//
// One LSTM layer (bench/lstm_layer.wir, I = H = 256, compiled by weftc at build time with
// `optimize`) called through the AOT runtime two ways, in the same run:
//   fresh:  weft_aot_call, which allocates its scratch arena (53 MB at T = 100, B = 64) and
//           faults its pages in on every call;
//   reused: weft_aot_call_with_workspace on one weft_aot_workspace kept across calls.
// Both get the same inputs and must give bit-identical results (checked first). Prints the
// median microseconds per call of each and their ratio (fresh / reused: > 1, the workspace
// saves that much), at each thread count.
//
// Usage: weft-bench-aot-workspace [--threads N] [TxB ...]    (default: 100x64, 1 and 2 threads)
//
//===----------------------------------------------------------------------===//
#include "bench/AotLayerBench.h"
#include "bench/BenchTiming.h"
#include "runtime/Parallel.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace weft;
using namespace weft::bench;

namespace {

constexpr int64_t kI = 256, kH = 256;

/// Inputs and outputs of one call of @lstm_layer at (T, B).
struct LayerCall {
  LayerCall(int64_t T, int64_t B) : T(T), B(B) {
    auto fill = [](std::vector<float> &v, size_t n, float bound, int64_t seed) {
      v.resize(n);
      for (size_t k = 0; k < n; ++k)
        v[k] = bound * (2 * random::uniformF32(seed, k) - 1);
    };
    fill(xs, static_cast<size_t>(T * B * kI), 1.0f, 1);
    fill(h0, static_cast<size_t>(B * kH), 0.5f, 2);
    fill(c0, static_cast<size_t>(B * kH), 0.5f, 3);
    fill(W, static_cast<size_t>((kI + kH) * 4 * kH), 0.0442f, 4); // 1/sqrt(I + H)
    fill(b, static_cast<size_t>(4 * kH), 0.0442f, 5);
    hT.resize(static_cast<size_t>(B * kH));
    cT.resize(hT.size());
    hs.resize(static_cast<size_t>(T * B * kH));
  }

  /// One call; `ws` null: a fresh arena. Exits with the message on an error.
  void run(weft_aot_workspace *ws) {
    const int64_t sxs[] = {T, B, kI}, sh[] = {B, kH}, sW[] = {kI + kH, 4 * kH}, sb[] = {4 * kH};
    const weft_aot_input in[] = {{xs.data(), WEFT_AOT_F32, 3, sxs},
                                 {h0.data(), WEFT_AOT_F32, 2, sh},
                                 {c0.data(), WEFT_AOT_F32, 2, sh},
                                 {W.data(), WEFT_AOT_F32, 2, sW},
                                 {b.data(), WEFT_AOT_F32, 1, sb}};
    weft_aot_output out[] = {{hT.data(), hT.size() * sizeof(float), nullptr},
                             {cT.data(), cT.size() * sizeof(float), nullptr},
                             {hs.data(), hs.size() * sizeof(float), nullptr}};
    char err[512];
    if (weft_aot_call_with_workspace(&weft_lstm_layer_fn, ws, nullptr, in, 5, out, 3, err,
                                     sizeof err) != WEFT_AOT_OK) {
      fmt::print(stderr, "weft-bench-aot-workspace: {}\n", err);
      std::exit(1);
    }
  }

  int64_t T, B;
  std::vector<float> xs, h0, c0, W, b, hT, cT, hs;
};

} // namespace

int main(int argc, char **argv) {
  auto args = parseLayerBenchArgs(argc, argv, "weft-bench-aot-workspace");
  if (!args)
    return 2;
  const auto &[threadCounts, shapes] = *args;

  fmt::print(
      "one AOT-compiled LSTM layer (I = H = 256), median microseconds per call;\n"
      "fresh: weft_aot_call (a new scratch arena per call), reused: one weft_aot_workspace\n");
  fmt::print("{:>4} {:>4} {:>3} {:>10} {:>11} {:>11} {:>13}\n", "T", "B", "thr", "arena MB",
             "fresh us", "reused us", "fresh/reused");
  for (auto [T, B] : shapes) {
    LayerCall fresh(T, B), reused(T, B);
    std::unique_ptr<weft_aot_workspace, DestroyWorkspace> ws(weft_aot_workspace_create());
    fresh.run(nullptr);
    reused.run(ws.get());
    if (fresh.hs != reused.hs || fresh.cT != reused.cT) {
      fmt::print(stderr, "weft-bench-aot-workspace: results differ with a kept workspace\n");
      return 1;
    }
    const int64_t dims[] = {T, B};
    double arenaMB = static_cast<double>(weft_aot_arena_bytes(&weft_lstm_layer_fn, dims)) / 1e6;
    for (int threads : threadCounts) {
      setNumThreads(threads);
      int runs = 0;
      double est = medianOverBudget([&] { fresh.run(nullptr); }, 0.3, 3, 50, runs);
      runs = static_cast<int>(std::clamp(1.5 / est, 6.0, 60.0));
      auto [f, r] =
          medianSecondsInRounds(runs, [&] { fresh.run(nullptr); }, [&] { reused.run(ws.get()); });
      fmt::print("{:>4} {:>4} {:>3} {:>10.1f} {:>11.1f} {:>11.1f} {:>12.2f}x\n", T, B, threads,
                 arenaMB, f * 1e6, r * 1e6, f / r);
    }
  }
  return 0;
}
