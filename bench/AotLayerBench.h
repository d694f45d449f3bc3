//===- bench/AotLayerBench.h - what the AOT LSTM-layer benches share ------===//
//
// weft-bench-aot-workspace and weft-bench-aot-jit both call bench/lstm_layer.wir compiled by
// weftc, take the same command line and keep a weft_aot_workspace across calls.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "bench_lstm_layer.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

namespace weft::bench {

struct DestroyWorkspace {
  void operator()(weft_aot_workspace *ws) const { weft_aot_workspace_destroy(ws); }
};

/// `[--threads N] [TxB ...]`: the thread counts (default 1 and 2) and the (T, B) shapes
/// (default 100x64).
struct LayerBenchArgs {
  std::vector<int> threadCounts = {1, 2};
  std::vector<std::pair<int64_t, int64_t>> shapes;
};

/// The command line of `program`; nullopt, with the usage on stderr, when it is not one.
inline std::optional<LayerBenchArgs> parseLayerBenchArgs(int argc, char **argv,
                                                         const char *program) {
  LayerBenchArgs a;
  for (int k = 1; k < argc; ++k) {
    long long T = 0, B = 0;
    if (std::strcmp(argv[k], "--threads") == 0 && k + 1 < argc) {
      a.threadCounts = {std::atoi(argv[++k])};
    } else if (std::sscanf(argv[k], "%lldx%lld", &T, &B) == 2 && T > 0 && B > 0) {
      a.shapes.emplace_back(T, B);
    } else {
      fmt::print(stderr, "usage: {} [--threads N] [TxB ...]\n", program);
      return std::nullopt;
    }
  }
  if (a.shapes.empty())
    a.shapes = {{100, 64}};
  return a;
}

} // namespace weft::bench
