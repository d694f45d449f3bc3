//===- tests/unit/runtime/NpyHeaderTest.cpp - malformed .npy headers ------===//
//
// One case per class of malformed header: each is an error that names the problem, never a
// crash. The bytes are built here, so that each case changes exactly one thing in a valid file.
#include "runtime/Npy.h"

#include <doctest/doctest.h>

#include <string>

namespace weft::runtime_NpyHeaderTest {
namespace {

/// A .npy file of format `major`.0 holding `dict` as its header (padded with spaces and '\n'
/// like NumPy's) and `data`.
std::string npyBytes(const std::string &dict, const std::string &data, int major = 1) {
  std::string header = dict + "   \n";
  size_t lenBytes = major == 1 ? 2 : 4;
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < lenBytes; ++i)
    out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

const std::string kDict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
const std::string kData(8, '\1');

/// The error decoding `bytes`, without the "x.npy: " prefix; "<ok>" when it decodes.
std::string npyHeaderError(const std::string &bytes) {
  auto r = decodeNpy(bytes, "x.npy");
  if (r)
    return "<ok>";
  const std::string &m = r.diag().message;
  return m.rfind("x.npy: ", 0) == 0 ? m.substr(7) : m;
}

/// The error for kDict with `from` replaced by `to`.
std::string errorWith(const std::string &from, const std::string &to,
                      const std::string &data = kData) {
  std::string dict = kDict;
  size_t at = dict.find(from);
  REQUIRE(at != std::string::npos);
  dict.replace(at, from.size(), to);
  return npyHeaderError(npyBytes(dict, data));
}

} // namespace

TEST_CASE("the well-formed file these cases start from decodes") {
  auto a = decodeNpy(npyBytes(kDict, kData), "x.npy");
  REQUIRE(a);
  CHECK(a->dtype() == DType::I32);
  CHECK(a->shape() == std::vector<int64_t>{2});
  CHECK(npyHeaderError(npyBytes(kDict, kData, 2)) == "<ok>");
  CHECK(npyHeaderError(npyBytes(kDict, kData, 3)) == "<ok>");
}

TEST_CASE("a bad magic string is an error") {
  std::string b = npyBytes(kDict, kData);
  b[1] = 'n';
  CHECK(npyHeaderError(b) == "not a .npy file (bad magic)");
  CHECK(npyHeaderError("") == "not a .npy file (bad magic)");
  CHECK(npyHeaderError("\x93NUMPY") == "not a .npy file (bad magic)"); // no version bytes
}

TEST_CASE("an unknown format version is an error naming it") {
  std::string b = npyBytes(kDict, kData);
  b[6] = 4;
  CHECK(npyHeaderError(b) == "unsupported .npy format version 4.0");
  b[6] = 0;
  CHECK(npyHeaderError(b) == "unsupported .npy format version 0.0");
  b[6] = 1, b[7] = 1;
  CHECK(npyHeaderError(b) == "unsupported .npy format version 1.1");
}

TEST_CASE("a header length past the end of the file is an error") {
  std::string b = npyBytes(kDict, "");
  CHECK(npyHeaderError(b.substr(0, 9)) == "truncated header"); // half the length field
  b[8] = static_cast<char>(0xff), b[9] = static_cast<char>(0xff);
  CHECK(npyHeaderError(b) == "truncated header: 65535 bytes announced, 61 present");
  std::string v2 = npyBytes(kDict, "", 2);
  v2[11] = static_cast<char>(0xff); // 4-byte length of 2.0: ~4 GiB announced
  CHECK(npyHeaderError(v2) == "truncated header: 4278190141 bytes announced, 61 present");
}

TEST_CASE("a header that is not a dict literal is an error with its offset") {
  CHECK(npyHeaderError(npyBytes("['descr', '<i4']", kData)) ==
        "malformed header (expected '{' at offset 0)");
  CHECK(errorWith("'descr':", "'descr'") == "malformed header (expected ':' at offset 9)");
  CHECK(errorWith("'<i4',", "'<i4'") == "malformed header (expected ',' or '}' at offset 16)");
  CHECK(errorWith("'descr'", "descr") == "malformed header (expected a string at offset 1)");
  CHECK(npyHeaderError(npyBytes("{'descr: 1}", kData)) ==
        "malformed header (unterminated string at offset 2)");
  CHECK(errorWith("}", "} x") == "malformed header (unexpected text after the dict at offset 58)");
  CHECK(errorWith("False", "Nope") == "malformed header (expected a string at offset 34)");
}

TEST_CASE("a header without descr, fortran_order or shape, or with the wrong kind, is an error") {
  const std::string needs = "malformed header (needs 'descr', 'fortran_order' and 'shape')";
  CHECK(errorWith("'descr': '<i4', ", "") == needs);
  CHECK(errorWith("'fortran_order': False, ", "") == needs);
  CHECK(errorWith("'shape': (2,), ", "") == needs);
  CHECK(errorWith("'<i4'", "(4,)") == needs);
  CHECK(errorWith("False", "'no'") == needs);
  CHECK(errorWith("(2,)", "'2'") == needs);
}

TEST_CASE("an unsupported descr is an error naming it") {
  CHECK(errorWith("<i4", "<f2") == "unsupported dtype '<f2' (supported: <f4 <f8 <i4 <i8 |b1)");
  CHECK(errorWith("<i4", "") == "unsupported dtype '' (supported: <f4 <f8 <i4 <i8 |b1)");
  CHECK(errorWith("<i4", ">i4") == "big-endian dtype '>i4' is not supported");
  CHECK(errorWith("False", "True") ==
        "Fortran-order arrays are not supported (save a C-contiguous array)");
}

TEST_CASE("a shape with a negative, non-integer, oversized or overflowing dim is an error") {
  CHECK(errorWith("(2,)", "(-2,)") == "malformed header (expected a dimension size at offset 51)");
  CHECK(errorWith("(2,)", "(2.5,)") == "malformed header (expected ',' or ')' at offset 52)");
  CHECK(errorWith("(2,)", "(1234567890123456,)") ==
        "malformed header (expected a dimension size at offset 67)");
  CHECK(errorWith("(2,)", "(999999999999999, 999999999999999)") ==
        "shape (999999999999999, 999999999999999) is too large");
  // The product overflows only on the last dim: 2^62 elements of 4 bytes.
  CHECK(errorWith("(2,)", "(2147483648, 2147483648)") ==
        "shape (2147483648, 2147483648) is too large");
}

TEST_CASE("data shorter or longer than the shape says is an error") {
  CHECK(errorWith("(2,)", "(3,)") == "truncated data: expected 12 bytes, found 8");
  CHECK(errorWith("(2,)", "(2, 2)") == "truncated data: expected 16 bytes, found 8");
  CHECK(errorWith("(2,)", "(1,)") == "4 unexpected bytes after the data");
  CHECK(errorWith("(2,)", "(0,)") == "8 unexpected bytes after the data");
  CHECK(errorWith("(2,)", "(0, 2)", "") == "<ok>");
}

} // namespace weft::runtime_NpyHeaderTest
