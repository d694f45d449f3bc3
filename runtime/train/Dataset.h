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
// batched along axis 1: give the array's example axis when adding it. Token
// sequences of different lengths (sentences, words as letters) are added as
// such: a batch pads them to its own longest sequence with <PAD> and carries
// their lengths beside them, and bucketing by length (BatchOptions) keeps that
// padding small.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/Support.h"

#include <cstdint>
#include <string>
#include <vector>

namespace weft::train {

/// How a batch lays out token sequences of different lengths.
struct SequenceOptions {
  /// [T, B] as weft's scans read sequences (the default), or [B, T].
  bool timeMajor = true;
  /// Token ids put before / after every sequence (e.g. <BOS> for a decoder's inputs under
  /// teacher forcing, <EOS> for its targets); -1 for none. They count in the length.
  int32_t prepend = -1, append = -1;
  /// What fills the steps past a sequence's end.
  int32_t pad = 0;
};

class Dataset {
public:
  /// Adds an array whose axis `exampleAxis` indexes examples. Errors when that axis does not
  /// exist, when its size differs from the arrays added before, or when the name is taken.
  Status add(std::string name, Array values, int64_t exampleAxis = 0);
  /// Adds one token sequence per example. A batch holds two arrays for it: `name`, i32 ids
  /// padded to the batch's longest sequence, and `name`_lengths, i32 [B].
  Status addSequences(std::string name, std::vector<std::vector<int32_t>> sequences,
                      SequenceOptions options = {});

  int64_t size() const { return size_; }
  /// The arrays of a batch, in order: one per array added, two per sequence column.
  size_t numArrays() const { return outputs_.size(); }
  const std::string &name(size_t k) const { return outputs_[k].name; }
  /// The values of batch array k, which must come from add() (not from addSequences()).
  const Array &array(size_t k) const;
  /// Index of the batch array named `name`, or an error listing the names there are.
  Expected<size_t> find(const std::string &name) const;

  /// The examples `rows` (indices into [0, size())), in that order, of every array: one batch.
  std::vector<Array> gather(const std::vector<int64_t> &rows) const;
  /// Per example, the length of its longest sequence (empty when there are no sequences).
  std::vector<int64_t> lengths() const;

  /// Splits off the last `fraction` of the examples (in stored order) as a held-out set.
  Expected<std::pair<Dataset, Dataset>> split(double fraction) const;
  /// The examples `rows`, in that order, as a new dataset.
  Dataset subset(const std::vector<int64_t> &rows) const;

private:
  struct Column {
    std::string name;
    Array values; ///< dense columns
    int64_t axis = 0;
    std::vector<std::vector<int32_t>> sequences; ///< sequence columns
    SequenceOptions seq;
    bool ragged = false;
  };
  /// Batch array k is part `part` (0: values or ids, 1: lengths) of column `column`.
  struct Output {
    std::string name;
    size_t column = 0;
    int part = 0;
  };
  Status checkNew(const std::string &name, int64_t n, const std::string &what);
  Status addColumn(Column c);

  std::vector<Column> columns_;
  std::vector<Output> outputs_;
  int64_t size_ = -1;
};

struct BatchOptions {
  int64_t batchSize = 32;
  bool shuffle = true;
  /// Drop the last batch of an epoch when it is smaller than batchSize.
  bool dropLast = false;
  int64_t seed = 0;
  /// Bucketing: after the shuffle, each window of bucketWindow batches is sorted by example
  /// length and cut into batches, and the order of the full batches is shuffled again, so a
  /// batch holds sequences of similar length (little padding) yet epochs still differ. Needs
  /// the examples' lengths (Dataset::lengths()).
  bool bucketByLength = false;
  int64_t bucketWindow = 32;
};

/// Which examples make up each batch of each epoch; pure functions of the options.
class Batcher {
public:
  /// Errors for a batch size below 1 or an empty dataset. `lengths` (one per example) is needed
  /// for bucketByLength and ignored otherwise.
  static Expected<Batcher> make(int64_t numExamples, BatchOptions options,
                                std::vector<int64_t> lengths = {});

  int64_t batchesPerEpoch() const;
  /// The example order of `epoch`: a permutation of [0, N) (the identity without shuffle).
  std::vector<int64_t> order(int64_t epoch) const;
  /// The examples of batch `b` of an epoch whose order is `order`.
  std::vector<int64_t> batch(const std::vector<int64_t> &order, int64_t b) const;
  const BatchOptions &options() const { return options_; }

private:
  Batcher(int64_t n, BatchOptions o, std::vector<int64_t> lengths)
      : n_(n), options_(o), lengths_(std::move(lengths)) {}
  void bucket(std::vector<int64_t> &order, int64_t epoch) const;
  int64_t n_;
  BatchOptions options_;
  std::vector<int64_t> lengths_;
};

} // namespace weft::train
