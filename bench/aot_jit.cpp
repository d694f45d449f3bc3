//===- bench/aot_jit.cpp - one LSTM layer, native (weftc) against the JIT --------===//
//
// Issue 11 asks that a native binary run as fast as the JIT. One LSTM layer
// (bench/lstm_layer.wir, I = H = 256) is called two ways in the same process, on the same
// inputs, in interleaved rounds:
//   native: the object weftc compiled at build time (`optimize`), called through the AOT
//           runtime with one weft_aot_workspace kept across calls;
//   JIT:    the same file parsed at run time, the same `optimize` pipeline, cpu::compile.
// The two results are checked against each other first. Prints the median microseconds per
// call of each and native / JIT speed (> 1: the native code is faster), per thread count.
//
// Usage: weft-bench-aot-jit [--threads N] [TxB ...]    (default: 100x64, 1 and 2 threads)
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "bench/AotLayerBench.h"
#include "bench/BenchArrays.h"
#include "bench/BenchTiming.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"
#include "runtime/Parallel.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

using namespace weft;
using namespace weft::bench;

namespace aot_jit_bench {

constexpr int64_t kI = 256, kH = 256;

/// A seeded array of `shape`, uniform in [-bound, bound].
Array uniform(std::vector<int64_t> shape, float bound, int64_t seed) {
  Array a(DType::F32, std::move(shape));
  for (int64_t k = 0; k < a.numel(); ++k)
    a.data<float>()[k] = bound * (2 * random::uniformF32(seed, static_cast<uint64_t>(k)) - 1);
  return a;
}

/// The layer's inputs at (T, B) and one native call's results.
struct NativeCall {
  NativeCall(int64_t T, int64_t B)
      : in{uniform({T, B, kI}, 1.0f, 1), uniform({B, kH}, 0.5f, 2), uniform({B, kH}, 0.5f, 3),
           uniform({kI + kH, 4 * kH}, 0.0442f, 4), uniform({4 * kH}, 0.0442f, 5)},
        out{Array(DType::F32, {B, kH}), Array(DType::F32, {B, kH}), Array(DType::F32, {T, B, kH})},
        ws(weft_aot_workspace_create()) {}

  /// Exits with the runtime's message on an error.
  void run() {
    weft_aot_input args[5];
    for (size_t k = 0; k < in.size(); ++k)
      args[k] = {in[k].data<float>(), WEFT_AOT_F32, static_cast<int>(in[k].shape().size()),
                 in[k].shape().data()};
    weft_aot_output res[3];
    for (size_t k = 0; k < out.size(); ++k)
      res[k] = {out[k].data<float>(), static_cast<size_t>(out[k].numel()) * sizeof(float), nullptr};
    char err[512];
    if (weft_aot_call_with_workspace(&weft_lstm_layer_fn, ws.get(), nullptr, args, 5, res, 3, err,
                                     sizeof err) != WEFT_AOT_OK) {
      fmt::print(stderr, "weft-bench-aot-jit: native call: {}\n", err);
      std::exit(1);
    }
  }

  std::vector<Array> in, out;
  std::unique_ptr<weft_aot_workspace, DestroyWorkspace> ws;
};

/// bench/lstm_layer.wir through `optimize` and the JIT.
std::unique_ptr<cpu::Executable> compileJit() {
  std::ifstream file(WEFT_BENCH_LSTM_LAYER_WIR);
  std::stringstream text;
  text << file.rdbuf();
  if (!file) {
    fmt::print(stderr, "weft-bench-aot-jit: cannot read {}\n", WEFT_BENCH_LSTM_LAYER_WIR);
    std::exit(1);
  }
  auto module = ir::parseModule(text.str(), WEFT_BENCH_LSTM_LAYER_WIR).take();
  passes::PassManager pm(std::cerr);
  pm.addPipeline("optimize").check();
  pm.run(*module).check();
  return cpu::compile(*module).take();
}

} // namespace aot_jit_bench

using namespace aot_jit_bench;

int main(int argc, char **argv) {
  auto args = parseLayerBenchArgs(argc, argv, "weft-bench-aot-jit");
  if (!args)
    return 2;
  const auto &[threadCounts, shapes] = *args;

  auto jit = compileJit();
  fmt::print("one LSTM layer (I = H = 256, bench/lstm_layer.wir, `optimize`), median "
             "microseconds per call;\nnative: weftc's object with a kept workspace, JIT: "
             "cpu::compile of the same file\n");
  fmt::print("{:>4} {:>4} {:>3} {:>11} {:>11} {:>11} {:>10}\n", "T", "B", "thr", "native us",
             "JIT us", "native/JIT", "max diff");
  for (auto [T, B] : shapes) {
    NativeCall native(T, B);
    native.run();
    std::vector<Array> jitOut = jit->run("lstm_layer", native.in).take();
    // Both are weft's code from the same IR and passes; they differ only by the code
    // generator's options (AOT object vs JIT), so the results agree to rounding.
    double diff = maxDiff(native.out, jitOut);
    if (diff > 1e-4) {
      fmt::print(stderr, "weft-bench-aot-jit: native and JIT results differ by {:.3g}\n", diff);
      return 1;
    }
    for (int threads : threadCounts) {
      setNumThreads(threads);
      int runs = 0;
      double est = medianOverBudget([&] { native.run(); }, 0.3, 3, 50, runs);
      runs = static_cast<int>(std::clamp(1.5 / est, 6.0, 60.0));
      auto [n, j] = medianSecondsInRounds(
          runs, [&] { native.run(); }, [&] { (void)jit->run("lstm_layer", native.in).take(); });
      fmt::print("{:>4} {:>4} {:>3} {:>11.1f} {:>11.1f} {:>10.2f}x {:>10.2g}\n", T, B, threads,
                 n * 1e6, j * 1e6, j / n, diff);
    }
  }
  return 0;
}
