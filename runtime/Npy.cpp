//===- runtime/Npy.cpp - NumPy .npy reading and writing -------------------===//
//
// Format: "\x93NUMPY", major, minor, header length (u16 for 1.0, u32 for 2.0
// and 3.0), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a final '\n' so the data starts 64-byte aligned,
// byte for byte as NumPy's np.save writes it.
//
//===----------------------------------------------------------------------===//
#include "runtime/Npy.h"

#include "runtime/AtomicFile.h"
#include "runtime/ReadFile.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace weft {
namespace {

static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

/// One value of the header dict: a string, a bool, or a tuple of integers.
struct HeaderValue {
  enum Kind { String, Bool, Tuple } kind = String;
  std::string str;
  bool boolean = false;
  std::vector<int64_t> ints;
};

/// A parser for the small subset of Python literals that .npy headers use.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view s) : s_(s) {}

  Expected<std::map<std::string, HeaderValue>> parseDict() {
    std::map<std::string, HeaderValue> dict;
    if (!eat('{'))
      return fail("expected '{'");
    while (!eat('}')) {
      auto key = parseString();
      WEFT_TRY(key.status());
      if (!eat(':'))
        return fail("expected ':'");
      auto value = parseValue();
      WEFT_TRY(value.status());
      dict[*key] = std::move(*value);
      if (!eat(',')) {
        if (!eat('}'))
          return fail("expected ',' or '}'");
        break;
      }
    }
    skipSpace();
    if (pos_ != s_.size())
      return fail("unexpected text after the dict");
    return dict;
  }

private:
  Diag fail(const std::string &what) const {
    return err(fmt::format("malformed header ({} at offset {})", what, pos_));
  }
  void skipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  bool eat(char c) {
    skipSpace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool eatWord(std::string_view w) {
    skipSpace();
    if (s_.substr(pos_, w.size()) != w)
      return false;
    pos_ += w.size();
    return true;
  }
  Expected<std::string> parseString() {
    skipSpace();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"'))
      return fail("expected a string");
    char q = s_[pos_++];
    size_t end = s_.find(q, pos_);
    if (end == std::string_view::npos)
      return fail("unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  Expected<HeaderValue> parseValue() {
    skipSpace();
    HeaderValue v;
    if (eatWord("True") || eatWord("False")) {
      v.kind = HeaderValue::Bool;
      v.boolean = s_.substr(pos_ - 4, 4) == "True";
      return v;
    }
    if (eat('(')) {
      v.kind = HeaderValue::Tuple;
      while (!eat(')')) {
        skipSpace();
        size_t start = pos_;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_])))
          ++pos_;
        if (start == pos_ || pos_ - start > 15)
          return fail("expected a dimension size");
        v.ints.push_back(std::stoll(std::string(s_.substr(start, pos_ - start))));
        if (!eat(',')) {
          if (!eat(')'))
            return fail("expected ',' or ')'");
          break;
        }
      }
      return v;
    }
    auto s = parseString();
    WEFT_TRY(s.status());
    v.str = std::move(*s);
    return v;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

Expected<DType> dtypeOfDescr(const std::string &descr) {
  std::string supported;
  for (DType t : kAllDTypes) {
    if (descr == dtypeNpyDescr(t))
      return t;
    supported += fmt::format(" {}", dtypeNpyDescr(t));
  }
  if (descr == "<b1")
    return DType::I1;
  if (!descr.empty() && descr[0] == '>')
    return err(fmt::format("big-endian dtype '{}' is not supported", descr));
  return err(fmt::format("unsupported dtype '{}' (supported:{})", descr, supported));
}

uint32_t readLE(const std::string &b, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(b[at + i])) << (8 * i);
  return v;
}

} // namespace

std::string encodeNpy(const Array &a) {
  std::string shape = "(";
  for (size_t i = 0; i < a.shape().size(); ++i)
    shape += (i ? ", " : "") + std::to_string(a.shape()[i]);
  shape += a.shape().size() == 1 ? ",)" : ")";
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 dtypeNpyDescr(a.dtype()), shape);
  // As NumPy's writer does (numpy/lib/format.py, _write_array_header): first room for the
  // first dim to grow in place, 21 (the digits of 8 * 2^64 - 1) minus its own digits...
  if (!a.shape().empty())
    dict.append(21 - std::to_string(a.shape()[0]).size(), ' ');
  // ...then 1 to 64 spaces (64 when already aligned) and '\n', so the data starts on a
  // multiple of 64: magic + version + length + dict + spaces + '\n'.
  auto paddedTotal = [&](size_t prefix) { return (prefix + dict.size() + 1) / 64 * 64 + 64; };
  size_t lenBytes = 2, prefix = kMagicLen + 2 + lenBytes;
  if (paddedTotal(prefix) - prefix > 65535) // version 1.0 has a 16-bit header length
    lenBytes = 4, prefix = kMagicLen + 2 + lenBytes;
  size_t total = paddedTotal(prefix);
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';
  std::string out(kMagic, kMagicLen);
  out += static_cast<char>(lenBytes == 2 ? 1 : 2);
  out += '\0';
  for (size_t i = 0; i < lenBytes; ++i)
    out += static_cast<char>((dict.size() >> (8 * i)) & 0xff);
  out += dict;
  out.append(static_cast<const char *>(a.data()), a.nbytes());
  return out;
}

Expected<Array> decodeNpy(const std::string &b, const std::string &what) {
  auto fail = [&](const std::string &msg) { return err(fmt::format("{}: {}", what, msg)); };
  if (b.size() < kMagicLen + 2 || b.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
    return fail("not a .npy file (bad magic)");
  int major = static_cast<unsigned char>(b[kMagicLen]);
  int minor = static_cast<unsigned char>(b[kMagicLen + 1]);
  if (major < 1 || major > 3 || minor != 0)
    return fail(fmt::format("unsupported .npy format version {}.{}", major, minor));
  size_t lenBytes = major == 1 ? 2 : 4, start = kMagicLen + 2 + lenBytes;
  if (b.size() < start)
    return fail("truncated header");
  size_t headerLen = readLE(b, kMagicLen + 2, lenBytes);
  if (b.size() - start < headerLen)
    return fail(fmt::format("truncated header: {} bytes announced, {} present", headerLen,
                            b.size() - start));
  auto dict = HeaderParser(std::string_view(b).substr(start, headerLen)).parseDict();
  if (!dict)
    return fail(dict.diag().message);
  auto descr = dict->find("descr"), order = dict->find("fortran_order"),
       shape = dict->find("shape");
  if (descr == dict->end() || order == dict->end() || shape == dict->end() ||
      descr->second.kind != HeaderValue::String || order->second.kind != HeaderValue::Bool ||
      shape->second.kind != HeaderValue::Tuple)
    return fail("malformed header (needs 'descr', 'fortran_order' and 'shape')");
  auto dtype = dtypeOfDescr(descr->second.str);
  if (!dtype)
    return fail(dtype.diag().message);
  if (order->second.boolean)
    return fail("Fortran-order arrays are not supported (save a C-contiguous array)");
  const std::vector<int64_t> &dims = shape->second.ints;
  size_t available = b.size() - start - headerLen;
  uint64_t bytes = static_cast<uint64_t>(dtypeBytes(*dtype));
  bool overflow = false;
  for (int64_t d : dims)
    overflow |= __builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes);
  if (overflow)
    return fail(fmt::format("shape ({}) is too large", fmt::join(dims, ", ")));
  if (bytes > available)
    return fail(fmt::format("truncated data: expected {} bytes, found {}", bytes, available));
  if (bytes < available)
    return fail(fmt::format("{} unexpected bytes after the data", available - bytes));
  Array a(*dtype, dims);
  std::memcpy(a.data(), b.data() + start + headerLen, a.nbytes());
  if (*dtype == DType::I1) // NumPy bools are bytes 0/1; normalize anything else
    for (int64_t i = 0; i < a.numel(); ++i)
      static_cast<unsigned char *>(a.data())[i] = static_cast<unsigned char *>(a.data())[i] != 0;
  return a;
}

Expected<Array> readNpy(const std::string &path) {
  auto bytes = readFile(path);
  if (!bytes)
    return bytes.diag();
  return decodeNpy(*bytes, path);
}

Status writeNpy(const std::string &path, const Array &a) {
  return writeFileAtomically(path, encodeNpy(a));
}

} // namespace weft
