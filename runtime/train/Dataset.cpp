//===- runtime/train/Dataset.cpp ------------------------------------------===//
#include "runtime/train/Dataset.h"

#include "runtime/Random.h"

#include <fmt/format.h>

#include <cstring>
#include <numeric>

namespace weft::train {

Status Dataset::add(std::string name, Array values, int64_t exampleAxis) {
  if (exampleAxis < 0 || exampleAxis >= values.rank())
    return err(fmt::format("dataset array '{}' of type {} has no example axis {}", name,
                           values.typeStr(), exampleAxis));
  for (const Column &c : columns_)
    if (c.name == name)
      return err(fmt::format("dataset already has an array named '{}'", name));
  int64_t n = values.shape()[static_cast<size_t>(exampleAxis)];
  if (size_ >= 0 && n != size_)
    return err(fmt::format("dataset array '{}' holds {} examples (axis {} of {}), but '{}' "
                           "holds {}",
                           name, n, exampleAxis, values.typeStr(), columns_[0].name, size_));
  size_ = n;
  columns_.push_back(Column{std::move(name), std::move(values), exampleAxis});
  return Status::ok();
}

Expected<size_t> Dataset::find(const std::string &name) const {
  std::string names;
  for (size_t k = 0; k < columns_.size(); ++k) {
    if (columns_[k].name == name)
      return k;
    names += (k ? ", " : "") + columns_[k].name;
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

} // namespace

std::vector<Array> Dataset::gather(const std::vector<int64_t> &rows) const {
  std::vector<Array> out;
  out.reserve(columns_.size());
  for (const Column &c : columns_)
    out.push_back(gatherRows(c.values, c.axis, rows));
  return out;
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
  Dataset a, b;
  for (const Column &c : columns_) {
    WEFT_TRY(a.add(c.name, gatherRows(c.values, c.axis, first), c.axis));
    WEFT_TRY(b.add(c.name, gatherRows(c.values, c.axis, second), c.axis));
  }
  return std::pair{std::move(a), std::move(b)};
}

Expected<Batcher> Batcher::make(int64_t numExamples, BatchOptions options) {
  if (options.batchSize < 1)
    return err(fmt::format("batch size must be at least 1, got {}", options.batchSize));
  if (numExamples < 1)
    return err("the dataset is empty: nothing to train on");
  if (options.dropLast && numExamples < options.batchSize)
    return err(fmt::format("dropLast with {} examples and batch size {} leaves no batch",
                           numExamples, options.batchSize));
  return Batcher(numExamples, options);
}

int64_t Batcher::batchesPerEpoch() const {
  const int64_t b = options_.batchSize;
  return options_.dropLast ? n_ / b : (n_ + b - 1) / b;
}

std::vector<int64_t> Batcher::order(int64_t epoch) const {
  std::vector<int64_t> p(static_cast<size_t>(n_));
  std::iota(p.begin(), p.end(), 0);
  if (!options_.shuffle)
    return p;
  // Fisher-Yates with the counter-based generator: stream (seed, epoch), one draw per swap.
  const int64_t stream = static_cast<int64_t>(
      random::mix64(static_cast<uint64_t>(options_.seed) ^ random::mix64(uint64_t(epoch) + 1)));
  for (int64_t i = n_ - 1; i > 0; --i) {
    const uint64_t r = random::bits(stream, static_cast<uint64_t>(i));
    const auto j = static_cast<int64_t>(r % static_cast<uint64_t>(i + 1));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

std::vector<int64_t> Batcher::batch(const std::vector<int64_t> &order, int64_t b) const {
  const int64_t begin = b * options_.batchSize;
  const int64_t end = std::min<int64_t>(begin + options_.batchSize, n_);
  return {order.begin() + begin, order.begin() + end};
}

} // namespace weft::train
