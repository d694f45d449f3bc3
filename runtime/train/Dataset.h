//===- runtime/train/Dataset.h - examples in host memory, cut into batches -===//
//
// A Dataset is a set of named arrays that share a leading example axis: "x"
// [N, 28, 28] and "y" [N] hold N examples. A Batcher walks it epoch by epoch:
// each epoch visits every example once, in an order shuffled from (seed,
// epoch) by the counter-based generator of runtime/Random.h, so the same seed
// gives the same batches on every machine and a resumed run can jump straight
// to any (epoch, batch). The last batch of an epoch holds the examples left
// over (fewer than the batch size) unless dropLast is set.
//
// Sequence data stored time-major ([T, N, ...], as weft's scans read it) is
// batched along axis 1: give the array's example axis when adding it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/Support.h"

#include <cstdint>
#include <string>
#include <vector>

namespace weft::train {

class Dataset {
public:
  /// Adds an array whose axis `exampleAxis` indexes examples. Errors when that axis does not
  /// exist, when its size differs from the arrays added before, or when the name is taken.
  Status add(std::string name, Array values, int64_t exampleAxis = 0);

  int64_t size() const { return size_; }
  size_t numArrays() const { return columns_.size(); }
  const std::string &name(size_t k) const { return columns_[k].name; }
  const Array &array(size_t k) const { return columns_[k].values; }
  /// Index of the array named `name`, or an error listing the names there are.
  Expected<size_t> find(const std::string &name) const;

  /// The examples `rows` (indices into [0, size())), in that order, of every array: one batch.
  std::vector<Array> gather(const std::vector<int64_t> &rows) const;

  /// Splits off the last `fraction` of the examples (in stored order) as a held-out set.
  Expected<std::pair<Dataset, Dataset>> split(double fraction) const;

private:
  struct Column {
    std::string name;
    Array values;
    int64_t axis = 0;
  };
  std::vector<Column> columns_;
  int64_t size_ = -1;
};

struct BatchOptions {
  int64_t batchSize = 32;
  bool shuffle = true;
  /// Drop the last batch of an epoch when it is smaller than batchSize.
  bool dropLast = false;
  int64_t seed = 0;
};

/// Which examples make up each batch of each epoch; pure functions of the options.
class Batcher {
public:
  /// Errors for a batch size below 1 or an empty dataset.
  static Expected<Batcher> make(int64_t numExamples, BatchOptions options);

  int64_t batchesPerEpoch() const;
  /// The example order of `epoch`: a permutation of [0, N) (the identity without shuffle).
  std::vector<int64_t> order(int64_t epoch) const;
  /// The examples of batch `b` of an epoch whose order is `order`.
  std::vector<int64_t> batch(const std::vector<int64_t> &order, int64_t b) const;
  const BatchOptions &options() const { return options_; }

private:
  Batcher(int64_t n, BatchOptions o) : n_(n), options_(o) {}
  int64_t n_;
  BatchOptions options_;
};

} // namespace weft::train
