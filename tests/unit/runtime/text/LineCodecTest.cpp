#include "runtime/text/LineCodec.h"

#include <doctest/doctest.h>

namespace runtime_text_LineCodecTest {

using namespace weft;
using namespace weft::text;

namespace {

Vocabulary letters() {
  std::vector<std::string> texts{"abc"};
  return Vocabulary::build(texts, Vocabulary::Kind::Char);
}

} // namespace

TEST_CASE("a line's characters map to ids; one the vocabulary lacks is <UNK>") {
  Vocabulary v = letters();
  EncodedLine e = encodeLine(v, "cab1", 10);
  CHECK(e.ids == std::vector<int32_t>{v.id("c"), v.id("a"), v.id("b"), kUnk});
  CHECK_FALSE(e.truncated);
}

TEST_CASE("each byte that is not UTF-8 is one <UNK>, and NUL is no special case") {
  Vocabulary v = letters();
  EncodedLine e = encodeLine(v, std::string("a\xff\xc3\0b", 5), 10);
  CHECK(e.ids == std::vector<int32_t>{v.id("a"), kUnk, kUnk, kUnk, v.id("b")});
}

TEST_CASE("a line longer than the model reads keeps its first units and says it was cut") {
  Vocabulary v = letters();
  EncodedLine e = encodeLine(v, "abcabc", 4);
  CHECK(e.ids == std::vector<int32_t>{v.id("a"), v.id("b"), v.id("c"), v.id("a")});
  CHECK(e.truncated);
  CHECK_FALSE(encodeLine(v, "abca", 4).truncated);
}

TEST_CASE("the kept bytes of a line hold its first units and show that more follow") {
  Vocabulary v = letters();
  // Four-byte characters (U+1F600), five of them: a reader keeping bytesToKeep(v, 4) still sees
  // four whole ones and a fifth.
  std::string five;
  for (int i = 0; i < 5; ++i)
    five += "\xf0\x9f\x98\x80";
  std::string kept = five.substr(0, bytesToKeep(v, 4));
  EncodedLine e = encodeLine(v, kept, 4);
  CHECK(e.ids == std::vector<int32_t>(4, kUnk));
  CHECK(e.truncated);
}

TEST_CASE("an answer's ids read back as text up to <EOS>") {
  Vocabulary v = letters();
  std::vector<int32_t> ids{v.id("a"), v.id("b"), kEos, v.id("c")};
  CHECK(v.decode(ids) == "ab");
}

} // namespace runtime_text_LineCodecTest
