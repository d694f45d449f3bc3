//===- runtime/text/BatchPacking.h - lines to a decoder's tensors and back ===//
//
// A decoding function takes a batch as time-major ids [S, B] with <PAD> past each line's end
// and its lengths [B], and answers ids [T, B] with lengths [B]. On the CPU a batch takes its
// own shape; GPU code is built for one shape (B lines of at most S units), so there the lines
// are padded to it: rows past the lines read one <PAD>, and their answers are dropped.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/Support.h"

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace weft::text {

struct PackedBatch {
  Array ids;     // i32 [S, B]
  Array lengths; // i32 [B]
};

/// `lines` as a decoder's inputs: B = `batch` rows (or one per line when 0) of S =
/// `sourceLength` units (or the longest line's when 0). Refuses more lines than rows and a line
/// longer than S.
Expected<PackedBatch> packLines(std::span<const std::vector<int32_t>> lines, int64_t batch = 0,
                                int64_t sourceLength = 0);

/// The answers of the first `lines` rows of a decoder's results: each row's ids up to its length
/// (clamped to T). Errors when the results are not ids [T, B] and lengths [B] with B >= lines.
Expected<std::vector<std::vector<int32_t>>> unpackAnswers(const Array &ids, const Array &lengths,
                                                          size_t lines);

using LineDecoder = std::function<Expected<std::vector<std::vector<int32_t>>>(
    std::span<const std::vector<int32_t>>)>;

/// Runs `decode` over `lines` in chunks of at most `most` lines (all at once when 0), the
/// answers in order.
Expected<std::vector<std::vector<int32_t>>>
decodeInChunks(const LineDecoder &decode, const std::vector<std::vector<int32_t>> &lines,
               size_t most);

} // namespace weft::text
