//===- tests/unit/runtime/NpyTest.cpp - .npy reading and writing ----------===//
#include "runtime/Npy.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace weft::runtime_NpyTest {
namespace {

namespace fs = std::filesystem;

std::string golden(const char *name) { return std::string(WEFT_TEST_DATA_DIR) + "/npy/" + name; }

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string readError(const char *name) {
  auto r = readNpy(golden(name));
  return r.isOk() ? "<ok>" : r.diag().message.substr(golden(name).size());
}

/// A fresh empty directory under the system temp dir.
fs::path npyTempDir() {
  fs::path d = fs::temp_directory_path() / ("weft-npy-test-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

} // namespace

TEST_CASE("reads every supported dtype from files in NumPy's format") {
  auto f4 = readNpy(golden("f4_2x3.npy"));
  REQUIRE(f4.isOk());
  CHECK(f4->typeStr() == "f32[2, 3]");
  CHECK(f4->data<float>()[1] == 0.25f);
  CHECK(f4->data<float>()[5] == 1.25f);
  auto f8 = readNpy(golden("f8_scalar.npy"));
  REQUIRE(f8.isOk());
  CHECK(f8->typeStr() == "f64[]");
  CHECK(f8->data<double>()[0] == -1.5);
  auto i4 = readNpy(golden("i4_4.npy"));
  REQUIRE(i4.isOk());
  CHECK(i4->typeStr() == "i32[4]");
  CHECK(i4->data<int32_t>()[3] == -2147483647 - 1);
  auto i8 = readNpy(golden("i8_2x2.npy"));
  REQUIRE(i8.isOk());
  CHECK(i8->data<int64_t>()[2] == (int64_t(1) << 40));
  CHECK(i8->data<int64_t>()[3] == -(int64_t(1) << 62));
  auto b1 = readNpy(golden("b1_3.npy"));
  REQUIRE(b1.isOk());
  CHECK(b1->typeStr() == "i1[3]");
  CHECK(b1->data<bool>()[0]);
  CHECK_FALSE(b1->data<bool>()[1]);
  auto empty = readNpy(golden("f4_empty_0x3.npy"));
  REQUIRE(empty.isOk());
  CHECK(empty->typeStr() == "f32[0, 3]");
}

TEST_CASE("reads rank-3, scalar, 0-size and long-header arrays written by NumPy") {
  auto f8 = readNpy(golden("f8_2x3x4.npy"));
  REQUIRE(f8.isOk());
  CHECK(f8->typeStr() == "f64[2, 3, 4]");
  for (int64_t i = 0; i < 24; ++i) { // element [i, j, k] = (12 i + 4 j + k) / 8 - 1
    CAPTURE(i);
    CHECK(f8->data<double>()[i] == static_cast<double>(i) / 8 - 1);
  }
  auto i8 = readNpy(golden("i8_scalar.npy"));
  REQUIRE(i8.isOk());
  CHECK(i8->typeStr() == "i64[]");
  CHECK(i8->data<int64_t>()[0] == std::numeric_limits<int64_t>::min());
  auto b1 = readNpy(golden("b1_2x0x2.npy"));
  REQUIRE(b1.isOk());
  CHECK(b1->typeStr() == "i1[2, 0, 2]");
  auto i4 = readNpy(golden("i4_rank15.npy"));
  REQUIRE(i4.isOk());
  CHECK(i4->typeStr() == "i32[2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]");
  CHECK(i4->data<int32_t>()[5] == 5);
  auto f4 = readNpy(golden("f4_rank14_aligned.npy"));
  REQUIRE(f4.isOk());
  CHECK(f4->numel() == 100);
  CHECK(f4->data<float>()[99] == 99.0f);
}

TEST_CASE("reads format versions 2.0 and 3.0") {
  auto v2 = readNpy(golden("v2_i4_2.npy"));
  REQUIRE(v2.isOk());
  CHECK(v2->data<int32_t>()[1] == 8);
  auto v3 = readNpy(golden("v3_f8_2.npy"));
  REQUIRE(v3.isOk());
  CHECK(v3->data<double>()[0] == 0.5);
}

TEST_CASE("writes byte-for-byte what NumPy writes") {
  // Every file np.save wrote in tests/data/npy/make_golden.py (the v2/v3 and bad_* files are
  // not what np.save writes for their arrays).
  for (const char *name : {"f4_2x3.npy", "f8_scalar.npy", "i4_4.npy", "i8_2x2.npy", "b1_3.npy",
                           "f4_empty_0x3.npy", "f8_2x3x4.npy", "i8_scalar.npy", "b1_2x0x2.npy",
                           "i4_rank15.npy", "f4_rank14_aligned.npy"}) {
    CAPTURE(std::string(name));
    auto a = readNpy(golden(name));
    REQUIRE(a.isOk());
    CHECK(encodeNpy(*a) == slurp(golden(name)));
  }
}

TEST_CASE("bad files are errors naming the problem") {
  CHECK(readError("bad_magic.npy") == ": not a .npy file (bad magic)");
  CHECK(readError("bad_truncated.npy") == ": truncated data: expected 32 bytes, found 24");
  CHECK(readError("bad_u1.npy") == ": unsupported dtype '|u1' (supported: <f4 <f8 <i4 <i8 |b1)");
  CHECK(readError("bad_bigendian.npy") == ": big-endian dtype '>f4' is not supported");
  CHECK(readError("bad_fortran.npy") ==
        ": Fortran-order arrays are not supported (save a C-contiguous array)");
  auto missing = readNpy(golden("no_such_file.npy"));
  REQUIRE_FALSE(missing.isOk());
  CHECK(missing.diag().message.find("cannot open") == 0);
  CHECK(missing.diag().message.find("No such file or directory") != std::string::npos);
}

TEST_CASE("garbage headers are errors, never crashes") {
  std::string good = slurp(golden("f4_2x3.npy"));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    CAPTURE(cut);
    CHECK_FALSE(decodeNpy(good.substr(0, cut), "x").isOk());
  }
  std::string bad = good;
  bad.replace(bad.find("(2, 3)"), 6, "(9999999999999, 9999999999999)");
  CHECK_FALSE(decodeNpy(bad, "x").isOk());
}

TEST_CASE("arrays round-trip through files, and writes leave no temporary files") {
  fs::path dir = npyTempDir();
  std::vector<Array> arrays{
      Array::of<float>({2, 2}, {1.5f, -2, 0, 3}), Array::of<double>({}, {0.125}),
      Array::of<int32_t>({3}, {1, 2, 3}),         Array::of<int64_t>({1, 2, 1}, {-5, 6}),
      Array::of<bool>({2}, {true, false}),        Array(DType::F64, {0})};
  for (size_t i = 0; i < arrays.size(); ++i) {
    CAPTURE(i);
    std::string path = (dir / ("a" + std::to_string(i) + ".npy")).string();
    REQUIRE(writeNpy(path, arrays[i]).isOk());
    REQUIRE(writeNpy(path, arrays[i]).isOk()); // overwriting works too
    auto back = readNpy(path);
    REQUIRE(back.isOk());
    CHECK(back->typeStr() == arrays[i].typeStr());
    CHECK(std::memcmp(back->data(), arrays[i].data(), arrays[i].nbytes()) == 0);
  }
  size_t files = 0;
  for (const auto &e : fs::directory_iterator(dir)) {
    CAPTURE(e.path().string());
    CHECK(e.path().extension() == ".npy");
    ++files;
  }
  CHECK(files == arrays.size());
  fs::remove_all(dir);
}

TEST_CASE("writing into a missing directory is an error") {
  Status s = writeNpy("/nonexistent-weft-dir/x.npy", Array::of<float>({1}, {1}));
  REQUIRE_FALSE(s.isOk());
  CHECK(s.message().find("/nonexistent-weft-dir/x.npy") != std::string::npos);
}

TEST_CASE("a header too long for version 1.0 is written as version 2.0") {
  // 30000 dims of size 1 ("1, " each) make a header of about 88 KiB, over the 16-bit limit.
  std::vector<int64_t> shape(30000, 1);
  Array a(DType::I32, shape);
  std::string bytes = encodeNpy(a);
  CHECK(bytes[6] == 2);
  CHECK((bytes.size() - a.nbytes()) % 64 == 0);
  auto back = decodeNpy(bytes, "x");
  REQUIRE(back.isOk());
  CHECK(back->rank() == 30000);
}

} // namespace weft::runtime_NpyTest
