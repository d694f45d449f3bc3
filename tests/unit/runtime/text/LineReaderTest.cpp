#include "runtime/text/LineReader.h"

#include "tests/unit/RequireOk.h"
#include "tests/unit/runtime/text/PipeInput.h"

#include <doctest/doctest.h>

namespace runtime_text_LineReaderTest {

using namespace weft;
using namespace weft::text;

namespace {

/// Every line of `bytes`, read through a pipe keeping `keep` bytes a line.
std::vector<Line> readAll(std::string bytes, size_t keep) {
  test::PipeInput in(std::move(bytes));
  LineReader reader(in.fd(), keep);
  std::vector<Line> all;
  while (!reader.atEnd()) {
    Expected<std::vector<Line>> lines = reader.next();
    REQUIRE_OK(lines);
    for (Line &l : *lines)
      all.push_back(std::move(l));
  }
  return all;
}

} // namespace

TEST_CASE("lines end at \\n, a \\r before it is dropped, and a last line needs no \\n") {
  std::vector<Line> lines = readAll("hello\r\n\nworld\nlast", 100);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].bytes == "hello");
  CHECK(lines[1].bytes.empty());
  CHECK(lines[2].bytes == "world");
  CHECK(lines[3].bytes == "last");
  for (const Line &l : lines)
    CHECK_FALSE(l.cut());
}

TEST_CASE("input that ends with \\n has no empty last line, and empty input has no line") {
  CHECK(readAll("a\nb\n", 100).size() == 2);
  CHECK(readAll("", 100).empty());
}

TEST_CASE("NUL and bytes that are not UTF-8 are kept as they are") {
  std::string bytes("a\0\xff\xc3", 4);
  std::vector<Line> lines = readAll(bytes + "\n", 100);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].bytes == bytes);
  CHECK(lines[0].length == 4);
}

TEST_CASE("a line longer than the reader keeps is cut, its full length counted") {
  std::string longLine(200'000, 'x');
  std::vector<Line> lines = readAll(longLine + "\nshort\n", 8);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].bytes == "xxxxxxxx");
  CHECK(lines[0].length == 200'000);
  CHECK(lines[0].cut());
  CHECK(lines[1].bytes == "short");
  CHECK_FALSE(lines[1].cut());
}

TEST_CASE("a \\r that ends a line is no part of its length, even past the kept bytes") {
  std::vector<Line> lines = readAll("abcd\r\n", 4);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].bytes == "abcd");
  CHECK_FALSE(lines[0].cut());
}

TEST_CASE("reading a closed file descriptor is an error that says so") {
  LineReader reader(-1, 10);
  Expected<std::vector<Line>> lines = reader.next();
  REQUIRE_FALSE(lines.isOk());
  CHECK(lines.diag().str().find("cannot read the input") != std::string::npos);
}

} // namespace runtime_text_LineReaderTest
