//===- runtime/train/Metrics.h - training metrics as CSV and an SVG curve --===//
//
// MetricsLog keeps one row per measurement in long form,
//   step,epoch,split,metric,value
//   17,0,train,loss,0.4123
//   99,0,heldout,accuracy,0.875
// so new metrics never change the columns; write() replaces the file
// atomically (readers never see half of it).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <cstdint>
#include <string>
#include <string_view>

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

} // namespace weft::train
