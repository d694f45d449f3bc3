//===- runtime/train/Progress.h - what training shows while it runs -------===//
//
// On a terminal, one line redrawn in place at most ten times a second:
//   epoch 2/10 [########------------]  160/400  loss 0.0412  5120 ex/s  ETA 0:42
// Elsewhere (a log file, CI) plain lines that never overwrite each other: one
// at each epoch's end, and one every N steps when asked.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace weft::train {

class ProgressReporter {
public:
  enum class Style { Bar, Lines, Off };
  ProgressReporter(std::FILE *out, Style style, int64_t epochs, int64_t lineEvery)
      : out_(out), style_(style), epochs_(epochs), lineEvery_(lineEvery) {}
  /// Bar where `out` is a terminal, Lines elsewhere.
  static Style autoStyle(std::FILE *out);

  /// After each step: its place, the mean loss of the epoch so far, the examples per second
  /// of the epoch so far, and the steps left in the whole run (for the ETA).
  void step(int64_t step, int64_t epoch, int64_t batch, int64_t batches, double meanLoss,
            double examplesPerSecond, double secondsPerStep, int64_t stepsLeft);
  /// At an epoch's end: a line that stays, with `extra` (held-out metrics) appended.
  void epochEnd(int64_t epoch, int64_t steps, double meanLoss, double examplesPerSecond,
                const std::string &extra);

private:
  std::FILE *out_;
  Style style_;
  int64_t epochs_, lineEvery_;
  std::chrono::steady_clock::time_point lastDraw_{};
  bool drawn_ = false;
};

/// "1:02:03", "4:05", "0:07".
std::string formatDuration(double seconds);

} // namespace weft::train
