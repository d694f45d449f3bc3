//===- runtime/text/LineCodec.h - a line to a model's ids and back --------===//
//
// What a native seq2seq binary does to each line before and after the model:
//   - encodeLine: the line's units (characters or words, as the vocabulary has them) to ids,
//     at most `maxUnits` of them. A unit the vocabulary lacks is <UNK>, and so is every byte
//     that does not start valid UTF-8 (one <UNK> per such byte; a NUL byte is the character
//     U+0000, <UNK> unless the vocabulary holds it).
// (The answer's ids go back to text with Vocabulary::decode: up to the first <EOS>.)
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/text/Vocabulary.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft::text {

struct EncodedLine {
  std::vector<int32_t> ids;
  /// Whether the line had more than maxUnits units (ids holds the first maxUnits).
  bool truncated = false;
};

/// The ids of the first `maxUnits` units of `line`.
EncodedLine encodeLine(const Vocabulary &vocabulary, std::string_view line, int64_t maxUnits);

/// The bytes of a line that encodeLine needs to see to encode its first `maxUnits` units and
/// to know whether there are more: a reader may drop the rest (LineReader's keepBytes).
size_t bytesToKeep(const Vocabulary &vocabulary, int64_t maxUnits);

} // namespace weft::text
