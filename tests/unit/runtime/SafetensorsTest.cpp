//===- tests/unit/runtime/SafetensorsTest.cpp - the safetensors format ----===//
#include "runtime/Safetensors.h"

#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace weft::runtime_SafetensorsTest {
namespace {

std::string fixture(const char *name) {
  return std::string(WEFT_TEST_DATA_DIR) + "/safetensors/" + name;
}

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The tensors that tests/data/safetensors/make_fixtures.py saves in all_dtypes.safetensors.
Safetensors allDtypes() {
  Safetensors st;
  st.tensors.push_back({"w", Array::of<float>({2, 3}, {0.5f, 0.25f, -1.0f, 2.0f, 1e-3f, 3.5f})});
  st.tensors.push_back({"scale", Array::of<double>({}, {-1.5})});
  st.tensors.push_back({"ids", Array::of<int32_t>({4}, {7, -1, 0, INT32_MIN})});
  st.tensors.push_back(
      {"big", Array::of<int64_t>({2, 2}, {int64_t(1) << 40, -(int64_t(1) << 62), 3, 4})});
  st.tensors.push_back({"mask", Array::of<bool>({3}, {true, false, true})});
  st.tensors.push_back({"empty", Array(DType::F32, {0, 3})});
  st.metadata = {{"format", "np"}};
  return st;
}

/// A file made of `header` (its length prefixed) and `data`.
std::string file(std::string_view header, std::string_view data = {}) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out.append(header).append(data);
}

/// The error decoding `bytes` gives ("<ok>" when there is none), without the source's name.
std::string decodeError(const std::string &bytes) {
  auto r = decodeSafetensors(bytes, "t.safetensors");
  return r.isOk() ? "<ok>" : r.diag().message.substr(std::strlen("t.safetensors: "));
}

bool same(const Array &a, const Array &b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

} // namespace

TEST_CASE("reads a file the reference implementation wrote, every dtype") {
  auto st = readSafetensors(fixture("all_dtypes.safetensors"));
  REQUIRE_OK(st);
  Safetensors expected = allDtypes();
  CHECK(st->tensors.size() == expected.tensors.size());
  for (const NamedArray &t : expected.tensors) {
    CAPTURE(t.name);
    const Array *a = st->find(t.name);
    REQUIRE(a);
    CHECK(a->typeStr() == t.array.typeStr());
    CHECK(same(*a, t.array));
  }
  CHECK(st->metadata == expected.metadata);

  auto plain = readSafetensors(fixture("no_metadata.safetensors"));
  REQUIRE_OK(plain);
  CHECK(plain->metadata.empty());
  REQUIRE(plain->tensors.size() == 1);
  CHECK(plain->tensors[0].array.data<double>()[1] == 2.0);
}

TEST_CASE("writes the same bytes as the reference implementation") {
  auto bytes = encodeSafetensors(allDtypes());
  REQUIRE_OK(bytes);
  CHECK(*bytes == slurp(fixture("all_dtypes.safetensors")));
  Safetensors plain;
  plain.tensors.push_back({"x", Array::of<double>({2}, {1.0, 2.0})});
  auto plainBytes = encodeSafetensors(plain);
  REQUIRE_OK(plainBytes);
  CHECK(*plainBytes == slurp(fixture("no_metadata.safetensors")));
}

TEST_CASE("every dtype, scalars, empty tensors and metadata round-trip") {
  Safetensors st = allDtypes();
  st.tensors.push_back({"none", Array(DType::I1, {2, 0})});
  st.metadata["step"] = "12";
  st.metadata["note"] = "quotes \" and \\ and \xc3\xa9";
  auto bytes = encodeSafetensors(st);
  REQUIRE_OK(bytes);
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, bytes->data(), 8);
  CHECK((8 + headerLen) % 8 == 0); // the data starts aligned
  auto back = decodeSafetensors(*bytes, "mem");
  REQUIRE_OK(back);
  CHECK(back->metadata == st.metadata);
  REQUIRE(back->tensors.size() == st.tensors.size());
  for (const NamedArray &t : st.tensors) {
    CAPTURE(t.name);
    REQUIRE(back->find(t.name));
    CHECK(same(*back->find(t.name), t.array));
  }
}

TEST_CASE("writing refuses duplicate or reserved names and bytes that are not UTF-8") {
  Safetensors st;
  st.tensors.push_back({"a", Array(DType::F32, {1})});
  st.tensors.push_back({"a", Array(DType::F32, {2})});
  CHECK(encodeSafetensors(st).diag().message == "two tensors are called 'a'");
  st.tensors[1].name = "__metadata__";
  CHECK(encodeSafetensors(st).diag().message.find("reserves") != std::string::npos);
  st.tensors[1].name = "bad\xff";
  CHECK(encodeSafetensors(st).diag().message.find("UTF-8") != std::string::npos);
}

TEST_CASE("truncated files give an error that says so") {
  std::string good = slurp(fixture("all_dtypes.safetensors"));
  CHECK(decodeError(good.substr(0, 5)).find("truncated: 5 bytes") != std::string::npos);
  CHECK(decodeError(good.substr(0, 100)).find("truncated: the header length is 384") !=
        std::string::npos);
  CHECK(decodeError(good.substr(0, good.size() - 1)).find("run past the 82 bytes of data") !=
        std::string::npos);
  CHECK(decodeError(good + "x").find("end at byte 83 of the data, but there are 84 bytes") !=
        std::string::npos);
}

TEST_CASE("corrupt headers give an error that names the problem") {
  const std::string data8(8, '\0');
  auto one = [](std::string fields) { return "{\"t\":{" + fields + "}}"; };
  std::string huge(8, '\xff');
  CHECK(decodeError(huge).find("over the 100000000-byte limit") != std::string::npos);
  CHECK(decodeError(file("[]")) == "the header does not start with '{'");
  CHECK(decodeError(file("{\"t\":")).find("not valid JSON") != std::string::npos);
  CHECK(decodeError(file(std::string(20, '{') + std::string(20, '}'))) ==
        "the header nests deeper than 8 levels");
  CHECK(decodeError(file(one(R"("dtype":"F33","shape":[2],"data_offsets":[0,8])"), data8)) ==
        "tensor 't': unknown dtype 'F33'");
  CHECK(decodeError(file(one(R"("dtype":"F16","shape":[4],"data_offsets":[0,8])"), data8))
            .find("dtype F16 is not supported") != std::string::npos);
  CHECK(decodeError(file(one(R"("dtype":7,"shape":[2],"data_offsets":[0,8])"), data8)) ==
        "tensor 't': \"dtype\" is not a string");
  CHECK(decodeError(file(one(R"("shape":[2],"data_offsets":[0,8])"), data8)) ==
        "tensor 't': no \"dtype\"");
  CHECK(decodeError(file(one(R"("dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1)"), data8)) ==
        "tensor 't': unknown field 'x'");
  CHECK(decodeError(file(one(R"("dtype":"F32","shape":[-2],"data_offsets":[0,8])"), data8))
            .find("\"shape\" holds -2, not an integer") != std::string::npos);
  CHECK(decodeError(file(one(R"("dtype":"F32","shape":[2.5],"data_offsets":[0,8])"), data8))
            .find("\"shape\" holds 2.5") != std::string::npos);
  CHECK(decodeError(file(one(R"("dtype":"F32","shape":[3],"data_offsets":[0,8])"), data8)) ==
        "tensor 't': F32 [3] takes 12 bytes, but data_offsets [0, 8] hold 8");
  CHECK(decodeError(file(one(R"("dtype":"F32","shape":[2],"data_offsets":[8,0])"), data8)) ==
        "tensor 't': data_offsets [8, 0] end before they begin");
  CHECK(decodeError(file(one(R"("dtype":"F32","shape":[2],"data_offsets":[0])"), data8)) ==
        "tensor 't': \"data_offsets\" has 1 entries, not 2");
  CHECK(decodeError(
            file(one(R"("dtype":"I64","shape":[4294967296,4294967296],"data_offsets":[0,8])")))
            .find("more elements than fit in 64 bits") != std::string::npos);
  CHECK(
      decodeError(file(one(R"("dtype":"I64","shape":[2305843009213693952],"data_offsets":[0,8])")))
          .find("more bytes than fit in 64 bits") != std::string::npos);
  CHECK(decodeError(file(R"({"__metadata__":{"k":1}})")) ==
        "\"__metadata__\": the value of 'k' is not a string");
  CHECK(decodeError(file(R"({"__metadata__":[]})")) == "\"__metadata__\" is not an object");
  CHECK(decodeError(file(R"({"t":3})")) == "tensor 't': its entry is not an object");
}

TEST_CASE("duplicate names, overlapping, out-of-range or gapped offsets are errors") {
  const std::string data8(8, '\0');
  const char *entry = R"({"dtype":"F32","shape":[1],"data_offsets":)";
  auto two = [&](const char *a, const char *b) {
    return fmt::format(R"({{"a":{}{}}},"b":{}{}}}}})", entry, a, entry, b);
  };
  CHECK(decodeError(file(two("[0,4]", "[4,8]"), data8)) == "<ok>");
  CHECK(decodeError(file(fmt::format(R"({{"a":{}[0,4]}},"a":{}[4,8]}}}})", entry, entry), data8)) ==
        "the header has the key 'a' twice");
  CHECK(decodeError(file(two("[0,4]", "[2,6]"), data8)) ==
        "tensor 'b': data_offsets [2, 6] overlap the tensor before it, which ends at 4");
  CHECK(decodeError(file(two("[0,4]", "[6,10]"), std::string(10, '\0'))) ==
        "tensor 'b': data_offsets [6, 10] leave bytes [4, 6) of the data unused");
  CHECK(decodeError(file(two("[0,4]", "[8,12]"), data8)) ==
        "tensor 'b': data_offsets [8, 12] run past the 8 bytes of data (truncated file?)");
  CHECK(decodeError(file(two("[0,4]", "[18446744073709551612,18446744073709551616]"), data8))
            .find("\"data_offsets\" holds 1.8446744073709552e+19") != std::string::npos);
}

TEST_CASE("a BOOL byte other than 0 or 1 is an error, not undefined behaviour") {
  std::string bytes = file(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})",
                           std::string("\x01\x00\x02", 3));
  CHECK(decodeError(bytes) == "tensor 'm': BOOL element 2 is the byte 2, not 0 or 1");
}

TEST_CASE("errors name the file") {
  auto missing = readSafetensors("/nonexistent/w.safetensors");
  REQUIRE(!missing.isOk());
  CHECK(missing.diag().message.find("'/nonexistent/w.safetensors'") != std::string::npos);
  auto bad = decodeSafetensors("abc", "w.safetensors");
  REQUIRE(!bad.isOk());
  CHECK(bad.diag().message.rfind("w.safetensors: truncated", 0) == 0);
}

} // namespace weft::runtime_SafetensorsTest
