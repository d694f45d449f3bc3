//===- runtime/train/KeepBest.h - end training with the best epoch's weights ===//
//
// Early stopping's "restore the best weights" (Keras' EarlyStopping(restore_best_weights=True)):
// after every epoch the Trainer offers the held-out metrics and the parameters; the tracker
// copies the parameters of the epoch whose chosen metric is the best so far, and fit() ends with
// them. A model that overfits when trained long then keeps the epoch that generalised best, as
// judged on data it is not trained on (a validation slice of the training set, not the test
// set, or the choice would flatter the reported score).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/Support.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace weft::train {

/// Which held-out metric picks the epoch fit() ends with, and which way is better.
struct KeepBest {
  enum class Better { Lower, Higher };
  std::string metric = "loss";
  Better better = Better::Lower;
};

/// The best epoch so far by one held-out metric, and a copy of its parameters.
class BestEpoch {
public:
  /// Errors when `metrics` (the evaluation's result names) has no `keep.metric`.
  static Expected<BestEpoch> make(const KeepBest &keep, const std::vector<std::string> &metrics);

  /// Copies `params` when this epoch's metric beats every earlier one (a tie keeps the earlier
  /// epoch; a NaN never wins); returns whether it did.
  bool offer(int64_t epoch, const std::vector<double> &metrics, const std::vector<Array> &params);

  /// The best epoch (counting from 0) and its metric; nullopt before an epoch has won.
  std::optional<int64_t> epoch() const { return epoch_; }
  double value() const { return value_; }
  const std::vector<Array> &params() const { return params_; }

private:
  BestEpoch(KeepBest keep, size_t index) : keep_(std::move(keep)), index_(index) {}
  KeepBest keep_;
  size_t index_ = 0;
  std::optional<int64_t> epoch_;
  double value_ = 0;
  std::vector<Array> params_;
};

} // namespace weft::train
