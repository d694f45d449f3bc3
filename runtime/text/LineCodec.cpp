//===- runtime/text/LineCodec.cpp -----------------------------------------===//
#include "runtime/text/LineCodec.h"

#include <algorithm>

namespace weft::text {

EncodedLine encodeLine(const Vocabulary &vocabulary, std::string_view line, int64_t maxUnits) {
  EncodedLine e;
  e.ids = vocabulary.encode(line);
  size_t most = static_cast<size_t>(std::max<int64_t>(0, maxUnits));
  if (e.ids.size() > most) {
    e.ids.resize(most);
    e.truncated = true;
  }
  return e;
}

size_t bytesToKeep(const Vocabulary &vocabulary, int64_t maxUnits) {
  // A character is at most 4 bytes of UTF-8: maxUnits + 1 of them tell whether a line is longer.
  // Words have no bound; a megabyte of them is plenty for a line a model reads.
  if (vocabulary.kind() == Vocabulary::Kind::Char)
    return 4 * static_cast<size_t>(std::max<int64_t>(0, maxUnits) + 1);
  return size_t{1} << 20;
}

} // namespace weft::text
