#include "runtime/text/NativeSeq2Seq.h"

#include "tests/unit/RequireOk.h"
#include "tests/unit/runtime/text/PipeInput.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <random>

namespace runtime_text_NativeSeq2SeqTest {

using namespace weft;
using namespace weft::text;

namespace {

/// A stand-in for a compiled decoder: each line's ids sorted, then <EOS>. It records the
/// batches it was given.
struct SortingDecoder {
  std::vector<std::vector<std::vector<int32_t>>> *batches;
  Expected<std::vector<std::vector<int32_t>>>
  operator()(const std::vector<std::vector<int32_t>> &lines) const {
    batches->push_back(lines);
    std::vector<std::vector<int32_t>> out;
    for (std::vector<int32_t> l : lines) {
      std::sort(l.begin(), l.end(), std::greater<>()); // ids of "cba" sort to "abc" below
      l.push_back(kEos);
      out.push_back(l);
    }
    return out;
  }
};

/// The contents of `f` from its start.
std::string contents(std::FILE *f) {
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;)
    s += static_cast<char>(c);
  return s;
}

struct Served {
  Status status;
  std::string out, err;
  std::vector<std::vector<std::vector<int32_t>>> batches;
};

Served serve(const std::string &input, int64_t maxSourceLength, int64_t batch = 64) {
  // Frequencies c > b > a give ids c < b < a, so sorting ids downwards sorts letters upwards.
  std::vector<std::string> texts{"cccbba"};
  Vocabulary v = Vocabulary::build(texts, Vocabulary::Kind::Char);
  REQUIRE(v.id("c") < v.id("b"));
  test::PipeInput in(input);
  std::FILE *out = std::tmpfile(), *err = std::tmpfile();
  REQUIRE(out);
  REQUIRE(err);
  Served s;
  s.status = serveLines(in.fd(), out, err, v, SortingDecoder{&s.batches},
                        {.program = "sorter", .maxSourceLength = maxSourceLength, .batch = batch});
  s.out = contents(out);
  s.err = contents(err);
  std::fclose(out);
  std::fclose(err);
  return s;
}

} // namespace

TEST_CASE("each line gets one answer line, in order") {
  Served s = serve("cab\nbca\na\n", 10);
  REQUIRE_OK(s.status);
  CHECK(s.out == "abc\nabc\na\n");
  CHECK(s.err.empty());
}

TEST_CASE("an empty line is answered by an empty line without running the model") {
  Served s = serve("\n\nba\n", 10);
  REQUIRE_OK(s.status);
  CHECK(s.out == "\n\nab\n");
  REQUIRE(s.batches.size() == 1);
  CHECK(s.batches[0].size() == 1);
}

TEST_CASE("a character the vocabulary lacks reads as <UNK>") {
  Served s = serve("b?a\n", 10);
  REQUIRE_OK(s.status);
  REQUIRE(s.batches.size() == 1);
  CHECK(s.batches[0][0][1] == kUnk);
  CHECK(s.out == "ab<UNK>\n"); // <UNK> (1) sorts after every letter's id here
}

TEST_CASE("a line longer than the model reads is truncated, with a warning naming it") {
  Served s = serve("ab\ncbacbacba\n", 4);
  REQUIRE_OK(s.status);
  CHECK(s.out == "ab\nabcc\n");
  CHECK(s.err == "sorter: line 2 has more than 4 characters, the most the model reads; "
                 "answering for its first 4\n");
}

TEST_CASE("lines go to the model in batches of at most the batch size") {
  Served s = serve("a\nb\nc\nab\nbc\n", 10, /*batch=*/2);
  REQUIRE_OK(s.status);
  CHECK(s.out == "a\nb\nc\nab\nbc\n");
  REQUIRE(s.batches.size() == 3);
  CHECK(s.batches[0].size() == 2);
  CHECK(s.batches[2].size() == 1);
}

TEST_CASE("random bytes with NULs and no final newline are answered line by line") {
  std::mt19937 rng(12);
  std::string bytes(64 * 1024, '\0');
  for (char &c : bytes)
    c = static_cast<char>(rng() % 256);
  bytes.back() = 'x'; // no newline at the end
  size_t lines = static_cast<size_t>(std::count(bytes.begin(), bytes.end(), '\n')) + 1;
  Served s = serve(bytes, 16);
  REQUIRE_OK(s.status);
  CHECK(static_cast<size_t>(std::count(s.out.begin(), s.out.end(), '\n')) == lines);
}

TEST_CASE("a decoder's error stops serving and is returned") {
  test::PipeInput in("ab\n");
  std::vector<std::string> texts{"ab"};
  Vocabulary v = Vocabulary::build(texts, Vocabulary::Kind::Char);
  DecodeBatch failing =
      [](const std::vector<std::vector<int32_t>> &) -> Expected<std::vector<std::vector<int32_t>>> {
    return err("decoder broke");
  };
  std::FILE *out = std::tmpfile();
  Status st = serveLines(in.fd(), out, out, v, failing, {.program = "p", .maxSourceLength = 5});
  std::fclose(out);
  REQUIRE_FALSE(st.isOk());
  CHECK(st.diag().str() == "decoder broke");
}

} // namespace runtime_text_NativeSeq2SeqTest
