//===- runtime/train/Progress.cpp -----------------------------------------===//
#include "runtime/train/Progress.h"

#include <fmt/format.h>

#include <cmath>
#include <unistd.h>

namespace weft::train {

ProgressReporter::Style ProgressReporter::autoStyle(std::FILE *out) {
  return isatty(fileno(out)) ? Style::Bar : Style::Lines;
}

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "?";
  auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600)
    return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

void ProgressReporter::step(int64_t step, int64_t epoch, int64_t batch, int64_t batches,
                            double meanLoss, double examplesPerSecond, double secondsPerStep,
                            int64_t stepsLeft) {
  if (style_ == Style::Off)
    return;
  if (style_ == Style::Lines) {
    if (lineEvery_ > 0 && (step + 1) % lineEvery_ == 0)
      fmt::print(out_, "epoch {}/{} step {} batch {}/{} loss {:.6g} {:.0f} ex/s\n", epoch + 1,
                 epochs_, step + 1, batch + 1, batches, meanLoss, examplesPerSecond);
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && batch + 1 < batches && now - lastDraw_ < std::chrono::milliseconds(100))
    return;
  lastDraw_ = now;
  drawn_ = true;
  constexpr int kWidth = 20;
  int filled = static_cast<int>(kWidth * (batch + 1) / std::max<int64_t>(batches, 1));
  fmt::print(out_, "\repoch {}/{} [{}{}] {:>{}}/{}  loss {:.4g}  {:.0f} ex/s  ETA {}\x1b[K",
             epoch + 1, epochs_, std::string(static_cast<size_t>(filled), '#'),
             std::string(static_cast<size_t>(kWidth - filled), '-'), batch + 1,
             fmt::formatted_size("{}", batches), batches, meanLoss, examplesPerSecond,
             formatDuration(secondsPerStep * static_cast<double>(stepsLeft)));
  std::fflush(out_);
}

void ProgressReporter::epochEnd(int64_t epoch, int64_t steps, double meanLoss,
                                double examplesPerSecond, const std::string &extra) {
  if (style_ == Style::Off)
    return;
  if (style_ == Style::Bar && drawn_)
    fmt::print(out_, "\r\x1b[K");
  drawn_ = false;
  fmt::print(out_, "epoch {}/{}: {} steps, loss {:.6g}, {:.0f} ex/s{}\n", epoch + 1, epochs_, steps,
             meanLoss, examplesPerSecond, extra);
  std::fflush(out_);
}

} // namespace weft::train
