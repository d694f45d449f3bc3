#include "runtime/text/Vocabulary.h"

#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <random>

namespace runtime_text_VocabularyTest {

using namespace weft;
using namespace weft::text;

TEST_CASE("a character vocabulary puts the special tokens first, then units by frequency") {
  std::vector<std::string> texts{"hello", "help"};
  Vocabulary v = Vocabulary::build(texts, Vocabulary::Kind::Char);
  REQUIRE(v.size() == 4 + 5);
  CHECK(v.token(kPad) == "<PAD>");
  CHECK(v.token(kUnk) == "<UNK>");
  CHECK(v.token(kBos) == "<BOS>");
  CHECK(v.token(kEos) == "<EOS>");
  // l: 3, e: 2, h: 2, o: 1, p: 1; ties in byte order.
  CHECK(v.token(4) == "l");
  CHECK(v.token(5) == "e");
  CHECK(v.token(6) == "h");
  CHECK(v.id("o") == 7);
  CHECK(v.id("p") == 8);
  CHECK(v.id("z") == kUnk);
  CHECK(v.encode("hole") == std::vector<int32_t>{6, 7, 4, 5});
}

TEST_CASE("decoding stops at <EOS> and leaves out <PAD> and <BOS>") {
  std::vector<std::string> texts{"the cat sat", "the dog"};
  Vocabulary w = Vocabulary::build(texts, Vocabulary::Kind::Word);
  std::vector<int32_t> ids{kBos, w.id("the"), w.id("dog"), kEos, w.id("cat"), kPad};
  CHECK(w.decode(ids) == "the dog");
  CHECK(w.encode("the  bird\tsat\n") == std::vector<int32_t>{w.id("the"), kUnk, w.id("sat")});
  Vocabulary c = Vocabulary::build(texts, Vocabulary::Kind::Char);
  CHECK(c.decode(c.encode("act")) == "act");
  CHECK(c.decode(std::vector<int32_t>{kPad, kPad}).empty());
  CHECK(c.token(1000) == "<UNK>");
}

TEST_CASE("characters are Unicode code points; bytes that are not UTF-8 encode as <UNK>") {
  std::vector<std::string> texts{"café", "naïve"};
  Vocabulary v = Vocabulary::build(texts, Vocabulary::Kind::Char);
  std::vector<int32_t> ids = v.encode("é");
  REQUIRE(ids.size() == 1);
  CHECK(v.token(ids[0]) == "é");
  // A lone continuation byte, an overlong '/', a surrogate, a truncated sequence.
  for (std::string bad : {"\x80", "\xC0\xAF", "\xED\xA0\x80", "\xE2\x82"}) {
    std::vector<int32_t> b = v.encode("a" + bad);
    CHECK(b.front() == v.id("a"));
    CHECK(b.size() == 1 + bad.size());
    for (size_t i = 1; i < b.size(); ++i)
      CHECK(b[i] == kUnk);
  }
  // Text with invalid bytes builds a vocabulary without them.
  std::vector<std::string> dirty{"ab\xFF"};
  CHECK(Vocabulary::build(dirty, Vocabulary::Kind::Char).size() == 4 + 2);
}

TEST_CASE("random bytes always encode, one id per unit, within the vocabulary") {
  std::vector<std::string> texts{"abcdefghijklmnopqrstuvwxyz"};
  Vocabulary v = Vocabulary::build(texts, Vocabulary::Kind::Char);
  std::mt19937 gen(11);
  for (int trial = 0; trial < 200; ++trial) {
    std::string s(gen() % 40, '\0');
    for (char &ch : s)
      ch = static_cast<char>(gen() & 0xFF);
    for (Vocabulary::Kind k : {Vocabulary::Kind::Char, Vocabulary::Kind::Word}) {
      Vocabulary u = k == Vocabulary::Kind::Char ? v : Vocabulary::build(texts, k);
      for (int32_t id : u.encode(s))
        CHECK((id >= 0 && id < u.size()));
    }
  }
}

TEST_CASE("minCount and maxSize bound the vocabulary") {
  std::vector<std::string> texts{"aaab", "ac"};
  Vocabulary v = Vocabulary::build(texts, Vocabulary::Kind::Char, {.minCount = 2, .maxSize = 0});
  CHECK(v.size() == 5);
  CHECK(v.id("b") == kUnk);
  Vocabulary w = Vocabulary::build(texts, Vocabulary::Kind::Char, {.minCount = 1, .maxSize = 6});
  CHECK(w.size() == 6);
}

TEST_CASE("a vocabulary survives its JSON, and bad JSON is refused with a reason") {
  std::vector<std::string> texts{"zoë and \"quotes\"", "x"};
  Vocabulary v = Vocabulary::build(texts, Vocabulary::Kind::Word);
  auto back = Vocabulary::fromJson(v.toJson());
  REQUIRE_OK(back);
  CHECK(back->kind() == Vocabulary::Kind::Word);
  REQUIRE(back->size() == v.size());
  for (int32_t i = 0; i < v.size(); ++i)
    CHECK(back->token(i) == v.token(i));

  auto refused = [](std::string_view json) {
    auto r = Vocabulary::fromJson(json);
    REQUIRE_FALSE(r);
    return r.diag().message;
  };
  CHECK(refused("{").find("not JSON") != std::string::npos);
  CHECK(refused(R"({"format": "other"})").find("not a weft vocabulary") != std::string::npos);
  CHECK(refused(R"({"format": "weft-vocabulary", "version": 2})").find("unknown version") !=
        std::string::npos);
  CHECK(refused(R"({"format": "weft-vocabulary", "version": 1, "kind": "char", "tokens":
                ["<PAD>", "<BOS>", "<UNK>", "<EOS>"]})") ==
        "vocabulary token 1 must be <UNK>, got \"<BOS>\"");
  CHECK(refused(R"({"format": "weft-vocabulary", "version": 1, "kind": "char", "tokens":
                ["<PAD>", "<UNK>", "<BOS>", "<EOS>", "a", "a"]})") ==
        "vocabulary token 5 (\"a\") is empty or appears twice");
  CHECK(refused(R"({"format": "weft-vocabulary", "version": 1, "kind": "char", "tokens":
                ["<PAD>", "<UNK>", "<BOS>", "<EOS>", 7]})") ==
        "vocabulary token 4 is not a string");
}

} // namespace runtime_text_VocabularyTest
