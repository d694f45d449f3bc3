//===- runtime/train/Metrics.h - training metrics as CSV and an SVG curve --===//
//
// MetricsLog keeps one row per measurement in long form,
//   step,epoch,split,metric,value
//   17,0,train,loss,0.4123
//   99,0,heldout,accuracy,0.875
// so new metrics never change the columns; write() replaces the file
// atomically (readers never see half of it). writeLossCurve draws the loss per
// step as a standalone SVG line plot.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft::train {

class MetricsLog {
public:
  void add(int64_t step, int64_t epoch, std::string_view split, std::string_view metric,
           double value);
  const std::string &csv() const { return csv_; }
  Status write(const std::string &path) const;

private:
  std::string csv_ = "step,epoch,split,metric,value\n";
};

/// One named line of a plot.
struct Series {
  std::string name;
  std::vector<double> y; ///< y[i] is plotted at x = i + 1
};

/// A line plot of one or more series (non-finite points are left out), written atomically.
/// `logY` plots log10 of positive values (losses spanning decades).
Status writeLinePlot(const std::string &path, const std::string &title, const std::string &xLabel,
                     const std::vector<Series> &series, bool logY = false);

} // namespace weft::train
