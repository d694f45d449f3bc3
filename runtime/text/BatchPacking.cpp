//===- runtime/text/BatchPacking.cpp --------------------------------------===//
#include "runtime/text/BatchPacking.h"

#include "runtime/text/Vocabulary.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::text {
namespace {

/// Element `i` of an integer array (the decoder's ids and lengths are i64 or i32).
int64_t integerAt(const Array &a, int64_t i) {
  return a.dtype() == DType::I64 ? a.data<int64_t>()[i] : a.data<int32_t>()[i];
}

bool isIdArray(const Array &a, size_t rank) {
  return (a.dtype() == DType::I64 || a.dtype() == DType::I32) && a.shape().size() == rank;
}

} // namespace

Expected<PackedBatch> packLines(std::span<const std::vector<int32_t>> lines, int64_t batch,
                                int64_t sourceLength) {
  const auto n = static_cast<int64_t>(lines.size());
  int64_t longest = 1;
  for (const auto &l : lines)
    longest = std::max(longest, static_cast<int64_t>(l.size()));
  const int64_t B = batch > 0 ? batch : n, S = sourceLength > 0 ? sourceLength : longest;
  if (n > B)
    return err(fmt::format("{} lines do not fit a batch of {}", n, B));
  if (longest > S)
    return err(fmt::format("a line of {} units is longer than the {} the model reads", longest, S));
  PackedBatch p{Array(DType::I32, {S, B}), Array(DType::I32, {B})};
  std::fill_n(p.ids.data<int32_t>(), p.ids.numel(), kPad);
  std::fill_n(p.lengths.data<int32_t>(), B, 1);
  for (int64_t b = 0; b < n; ++b) {
    const std::vector<int32_t> &l = lines[static_cast<size_t>(b)];
    p.lengths.data<int32_t>()[b] = static_cast<int32_t>(l.size());
    for (size_t t = 0; t < l.size(); ++t)
      p.ids.data<int32_t>()[static_cast<int64_t>(t) * B + b] = l[t];
  }
  return p;
}

Expected<std::vector<std::vector<int32_t>>> unpackAnswers(const Array &ids, const Array &lengths,
                                                          size_t lines) {
  if (!isIdArray(ids, 2) || !isIdArray(lengths, 1) || ids.shape()[1] != lengths.shape()[0] ||
      lengths.shape()[0] < static_cast<int64_t>(lines))
    return err("the decoder's results are not ids [T, B] and lengths [B]");
  const int64_t T = ids.shape()[0], B = ids.shape()[1];
  std::vector<std::vector<int32_t>> answers(lines);
  for (size_t b = 0; b < lines; ++b) {
    int64_t k = std::clamp<int64_t>(integerAt(lengths, static_cast<int64_t>(b)), 0, T);
    for (int64_t t = 0; t < k; ++t)
      answers[b].push_back(static_cast<int32_t>(integerAt(ids, t * B + static_cast<int64_t>(b))));
  }
  return answers;
}

Expected<std::vector<std::vector<int32_t>>>
decodeInChunks(const LineDecoder &decode, const std::vector<std::vector<int32_t>> &lines,
               size_t most) {
  const size_t chunk = most > 0 ? most : std::max<size_t>(1, lines.size());
  std::vector<std::vector<int32_t>> answers;
  for (size_t first = 0; first < lines.size(); first += chunk) {
    auto part = decode(std::span(lines).subspan(first, std::min(chunk, lines.size() - first)));
    if (!part)
      return part.diag();
    for (auto &a : *part)
      answers.push_back(std::move(a));
  }
  return answers;
}

} // namespace weft::text
