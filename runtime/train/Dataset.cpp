//===- runtime/train/Dataset.cpp ------------------------------------------===//
#include "runtime/train/Dataset.h"

#include "runtime/Random.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <numeric>

namespace weft::train {

Status Dataset::checkNew(const std::string &name, int64_t n, const std::string &what) {
  for (const Output &o : outputs_)
    if (o.name == name)
      return err(fmt::format("dataset already has an array named '{}'", name));
  if (size_ >= 0 && n != size_)
    return err(fmt::format("dataset array '{}' holds {} examples ({}), but '{}' holds {}", name, n,
                           what, outputs_[0].name, size_));
  return Status::ok();
}

Status Dataset::addColumn(Column c) {
  const size_t k = columns_.size();
  outputs_.push_back(Output{c.name, k, 0});
  if (c.ragged) {
    std::string lengths = c.name + "_lengths";
    for (const Output &o : outputs_)
      if (o.name == lengths) {
        outputs_.pop_back();
        return err(fmt::format("dataset already has an array named '{}'", lengths));
      }
    outputs_.push_back(Output{std::move(lengths), k, 1});
  }
  columns_.push_back(std::move(c));
  return Status::ok();
}

Status Dataset::add(std::string name, Array values, int64_t exampleAxis) {
  if (exampleAxis < 0 || exampleAxis >= values.rank())
    return err(fmt::format("dataset array '{}' of type {} has no example axis {}", name,
                           values.typeStr(), exampleAxis));
  int64_t n = values.shape()[static_cast<size_t>(exampleAxis)];
  WEFT_TRY(checkNew(name, n, fmt::format("axis {} of {}", exampleAxis, values.typeStr())));
  WEFT_TRY(addColumn(Column{name, std::move(values), exampleAxis, {}, {}, false}));
  size_ = n;
  return Status::ok();
}

Status Dataset::addSequences(std::string name, std::vector<std::vector<int32_t>> sequences,
                             SequenceOptions options) {
  auto n = static_cast<int64_t>(sequences.size());
  WEFT_TRY(checkNew(name, n, "token sequences"));
  WEFT_TRY(addColumn(Column{name, Array(), 0, std::move(sequences), options, true}));
  size_ = n;
  return Status::ok();
}

const Array &Dataset::array(size_t k) const {
  const Column &c = columns_[outputs_[k].column];
  WEFT_CHECK(!c.ragged, "Dataset::array() of a sequence column");
  return c.values;
}

Expected<size_t> Dataset::find(const std::string &name) const {
  std::string names;
  for (size_t k = 0; k < outputs_.size(); ++k) {
    if (outputs_[k].name == name)
      return k;
    names += (k ? ", " : "") + outputs_[k].name;
  }
  return err(fmt::format("dataset has no array named '{}' (it has: {})", name,
                         names.empty() ? "none" : names));
}

namespace {

/// Copies rows `rows` of axis `axis` of `src` into a new array.
Array gatherRows(const Array &src, int64_t axis, const std::vector<int64_t> &rows) {
  std::vector<int64_t> shape = src.shape();
  const auto a = static_cast<size_t>(axis);
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < a; ++d)
    outer *= shape[d];
  for (size_t d = a + 1; d < shape.size(); ++d)
    inner *= shape[d];
  const int64_t n = shape[a];
  shape[a] = static_cast<int64_t>(rows.size());
  Array out = Array::uninitialized(src.dtype(), shape);
  const auto rowBytes = static_cast<size_t>(inner * dtypeBytes(src.dtype()));
  const auto *from = static_cast<const char *>(src.data());
  auto *to = static_cast<char *>(out.data());
  for (int64_t o = 0; o < outer; ++o)
    for (size_t r = 0; r < rows.size(); ++r)
      std::memcpy(to + (static_cast<size_t>(o) * rows.size() + r) * rowBytes,
                  from + static_cast<size_t>(o * n + rows[r]) * rowBytes, rowBytes);
  return out;
}

int64_t paddedLength(const std::vector<int32_t> &s, const SequenceOptions &o) {
  return static_cast<int64_t>(s.size()) + (o.prepend >= 0) + (o.append >= 0);
}

/// The sequences `rows`, with their extra tokens, padded to the longest: ids and lengths.
std::pair<Array, Array> padRows(const std::vector<std::vector<int32_t>> &seqs,
                                const SequenceOptions &o, const std::vector<int64_t> &rows) {
  const auto B = static_cast<int64_t>(rows.size());
  int64_t T = 0;
  for (int64_t r : rows)
    T = std::max(T, paddedLength(seqs[static_cast<size_t>(r)], o));
  Array ids = o.timeMajor ? Array(DType::I32, {T, B}) : Array(DType::I32, {B, T});
  Array lengths(DType::I32, {B});
  int32_t *out = ids.data<int32_t>();
  std::fill(out, out + T * B, o.pad);
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<int32_t> &s = seqs[static_cast<size_t>(rows[static_cast<size_t>(b)])];
    int64_t t = 0;
    auto put = [&](int32_t id) {
      out[o.timeMajor ? t * B + b : b * T + t] = id;
      ++t;
    };
    if (o.prepend >= 0)
      put(o.prepend);
    for (int32_t id : s)
      put(id);
    if (o.append >= 0)
      put(o.append);
    lengths.data<int32_t>()[b] = static_cast<int32_t>(t);
  }
  return {std::move(ids), std::move(lengths)};
}

} // namespace

std::vector<Array> Dataset::gather(const std::vector<int64_t> &rows) const {
  std::vector<Array> out;
  out.reserve(outputs_.size());
  for (const Column &c : columns_) {
    if (!c.ragged) {
      out.push_back(gatherRows(c.values, c.axis, rows));
      continue;
    }
    auto [ids, lengths] = padRows(c.sequences, c.seq, rows);
    out.push_back(std::move(ids));
    out.push_back(std::move(lengths));
  }
  return out;
}

std::vector<int64_t> Dataset::lengths() const {
  std::vector<int64_t> len;
  for (const Column &c : columns_) {
    if (!c.ragged)
      continue;
    len.resize(static_cast<size_t>(size_), 0);
    for (size_t i = 0; i < c.sequences.size(); ++i)
      len[i] = std::max(len[i], paddedLength(c.sequences[i], c.seq));
  }
  return len;
}

Dataset Dataset::subset(const std::vector<int64_t> &rows) const {
  Dataset d;
  for (const Column &c : columns_) {
    Column copy{c.name, Array(), c.axis, {}, c.seq, c.ragged};
    if (c.ragged) {
      for (int64_t r : rows)
        copy.sequences.push_back(c.sequences[static_cast<size_t>(r)]);
    } else {
      copy.values = gatherRows(c.values, c.axis, rows);
    }
    d.addColumn(std::move(copy)).check(); // the names were already checked here
  }
  d.size_ = static_cast<int64_t>(rows.size());
  return d;
}

Expected<std::pair<Dataset, Dataset>> Dataset::split(double fraction) const {
  if (!(fraction > 0.0 && fraction < 1.0))
    return err(fmt::format("a held-out fraction must lie in (0, 1), got {}", fraction));
  const int64_t held = static_cast<int64_t>(static_cast<double>(size_) * fraction);
  if (held == 0 || held == size_)
    return err(fmt::format("holding out {} of {} examples leaves one side empty", fraction, size_));
  std::vector<int64_t> first(static_cast<size_t>(size_ - held)), second(static_cast<size_t>(held));
  std::iota(first.begin(), first.end(), 0);
  std::iota(second.begin(), second.end(), size_ - held);
  return std::pair{subset(first), subset(second)};
}

Expected<Batcher> Batcher::make(int64_t numExamples, BatchOptions options,
                                std::vector<int64_t> lengths) {
  if (options.batchSize < 1)
    return err(fmt::format("batch size must be at least 1, got {}", options.batchSize));
  if (numExamples < 1)
    return err("the dataset is empty: nothing to train on");
  if (options.dropLast && numExamples < options.batchSize)
    return err(fmt::format("dropLast with {} examples and batch size {} leaves no batch",
                           numExamples, options.batchSize));
  if (options.bucketByLength) {
    if (static_cast<int64_t>(lengths.size()) != numExamples)
      return err("bucketing by length needs the examples' lengths: the dataset has no "
                 "sequences (add them with addSequences)");
    if (options.bucketWindow < 1)
      return err(
          fmt::format("the bucket window must be at least 1 batch, got {}", options.bucketWindow));
  } else {
    lengths.clear();
  }
  return Batcher(numExamples, options, std::move(lengths));
}

int64_t Batcher::batchesPerEpoch() const {
  const int64_t b = options_.batchSize;
  return options_.dropLast ? n_ / b : (n_ + b - 1) / b;
}

namespace {

/// The stream of draws for one purpose of one epoch.
int64_t epochStream(int64_t seed, int64_t epoch, uint64_t purpose) {
  return static_cast<int64_t>(random::mix64(static_cast<uint64_t>(seed) ^
                                            random::mix64(uint64_t(epoch) * 2 + purpose + 1)));
}

/// Fisher-Yates over [first, last) with one draw of `stream` per swap.
template <class It> void shuffle(It first, It last, int64_t stream) {
  for (auto i = last - first - 1; i > 0; --i) {
    const uint64_t r = random::bits(stream, static_cast<uint64_t>(i));
    std::swap(first[i], first[static_cast<decltype(i)>(r % static_cast<uint64_t>(i + 1))]);
  }
}

} // namespace

void Batcher::bucket(std::vector<int64_t> &order, int64_t epoch) const {
  const int64_t B = options_.batchSize, window = B * options_.bucketWindow;
  for (int64_t begin = 0; begin < n_; begin += window) {
    auto first = order.begin() + begin, last = order.begin() + std::min(begin + window, n_);
    // By length, ties in shuffled order: sort (length, position) pairs, a total order.
    std::vector<std::pair<int64_t, int64_t>> keyed;
    for (auto it = first; it != last; ++it)
      keyed.emplace_back(lengths_[static_cast<size_t>(*it)], it - first);
    std::sort(keyed.begin(), keyed.end());
    std::vector<int64_t> sorted;
    for (const auto &key : keyed)
      sorted.push_back(first[key.second]);
    std::copy(sorted.begin(), sorted.end(), first);
  }
  // Shuffle the order of the full batches; a partial one stays last.
  const int64_t full = n_ / B;
  std::vector<int64_t> blocks(static_cast<size_t>(full));
  std::iota(blocks.begin(), blocks.end(), 0);
  if (options_.shuffle)
    shuffle(blocks.begin(), blocks.end(), epochStream(options_.seed, epoch, 1));
  std::vector<int64_t> out;
  out.reserve(order.size());
  for (int64_t k : blocks)
    out.insert(out.end(), order.begin() + k * B, order.begin() + (k + 1) * B);
  out.insert(out.end(), order.begin() + full * B, order.end());
  order = std::move(out);
}

std::vector<int64_t> Batcher::order(int64_t epoch) const {
  std::vector<int64_t> p(static_cast<size_t>(n_));
  std::iota(p.begin(), p.end(), 0);
  if (options_.shuffle)
    shuffle(p.begin(), p.end(), epochStream(options_.seed, epoch, 0));
  if (options_.bucketByLength)
    bucket(p, epoch);
  return p;
}

std::vector<int64_t> Batcher::batch(const std::vector<int64_t> &order, int64_t b) const {
  const int64_t begin = b * options_.batchSize;
  const int64_t end = std::min<int64_t>(begin + options_.batchSize, n_);
  return {order.begin() + begin, order.begin() + end};
}

} // namespace weft::train
