//===- runtime/train/KeepBest.cpp -----------------------------------------===//
#include "runtime/train/KeepBest.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace weft::train {

Expected<BestEpoch> BestEpoch::make(const KeepBest &keep, const std::vector<std::string> &metrics) {
  auto it = std::find(metrics.begin(), metrics.end(), keep.metric);
  if (it == metrics.end())
    return err(fmt::format("keep-best: the evaluation has no metric '{}' (it has: {})", keep.metric,
                           fmt::join(metrics, ", ")));
  return BestEpoch(keep, static_cast<size_t>(it - metrics.begin()));
}

bool BestEpoch::offer(int64_t epoch, const std::vector<double> &metrics,
                      const std::vector<Array> &params) {
  if (index_ >= metrics.size() || std::isnan(metrics[index_]))
    return false;
  const double v = metrics[index_];
  const bool better =
      !epoch_ || (keep_.better == KeepBest::Better::Lower ? v < value_ : v > value_);
  if (!better)
    return false;
  epoch_ = epoch;
  value_ = v;
  params_ = params;
  return true;
}

} // namespace weft::train
