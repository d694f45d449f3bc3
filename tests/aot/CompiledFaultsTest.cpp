// Code that weftc compiled ahead of time (faults.wir -> faults.o + faults.h at build time), linked
// with weft_runtime only: each run-time fault reaches the caller as WEFT_AOT_FAULT and a message
// located in faults.wir, a value returned twice or a returned parameter lands in each of its
// output buffers, outputs that alias an input or each other are rejected, and a declared
// in-place update (@sgd) may be given its input as its output.
#include "faults.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

/// `err` from the file name on: the object was compiled from an absolute path.
std::string located(const char *err) {
  std::string s = err;
  size_t at = s.find("faults.wir:");
  return at == std::string::npos ? "(no location) " + s : s.substr(at);
}

} // namespace

TEST_CASE("integer division by zero in compiled code is a located fault") {
  std::vector<int32_t> a = {7, -7, 8, 9}, b = {2, 2, 0, 3}, q(4);
  char err[256];
  REQUIRE(weft_divide(a.data(), b.data(), 2, q.data(), err, sizeof err) == WEFT_AOT_OK);
  CHECK(q[0] == 3);
  CHECK(q[1] == -3); // truncates toward zero
  CHECK(weft_divide(a.data(), b.data(), 4, q.data(), err, sizeof err) == WEFT_AOT_FAULT);
  CHECK(located(err) ==
        "faults.wir:5:3: @divide: div: integer division by zero at element 2 of tensor<N x i32>");
}

TEST_CASE("a gather index out of range in compiled code is a located fault") {
  std::vector<float> table = {10, 11, 12, 13}, r(4);
  std::vector<int64_t> idx = {3, 0, 4, 1};
  char err[256];
  REQUIRE(weft_lookup(table.data(), idx.data(), 2, r.data(), err, sizeof err) == WEFT_AOT_OK);
  CHECK(r[0] == 13);
  CHECK(r[1] == 10);
  CHECK(weft_lookup(table.data(), idx.data(), 4, r.data(), err, sizeof err) == WEFT_AOT_FAULT);
  CHECK(located(err) == "faults.wir:10:3: @lookup: gather: index 4 at flat position 2 of the "
                        "indices is out of range [0, 4) for axis 0 of tensor<4 x f32>");
  idx = {-1};
  CHECK(weft_lookup(table.data(), idx.data(), 1, r.data(), err, sizeof err) == WEFT_AOT_FAULT);
  CHECK(located(err) == "faults.wir:10:3: @lookup: gather: index -1 at flat position 0 of the "
                        "indices is out of range [0, 4) for axis 0 of tensor<4 x f32>");
}

TEST_CASE("a scan length outside [0, T] in compiled code is a located fault") {
  // T = 3 steps of B = 2 examples; example 0 sums 2 steps, example 1 all 3.
  std::vector<float> xs = {1, 10, 2, 20, 3, 30}, c0 = {0, 0}, c(2);
  std::vector<int64_t> len = {2, 3};
  char err[256];
  REQUIRE(weft_running_sum(xs.data(), len.data(), c0.data(), 3, 2, c.data(), err, sizeof err) ==
          WEFT_AOT_OK);
  CHECK(c[0] == 3);
  CHECK(c[1] == 60);
  len = {2, 4};
  CHECK(weft_running_sum(xs.data(), len.data(), c0.data(), 3, 2, c.data(), err, sizeof err) ==
        WEFT_AOT_FAULT);
  CHECK(located(err) ==
        "faults.wir:15:3: @running_sum: scan: length 4 of example 1 is outside [0, 3]");
  len = {-1, 0};
  CHECK(weft_running_sum(xs.data(), len.data(), c0.data(), 3, 2, c.data(), err, sizeof err) ==
        WEFT_AOT_FAULT);
  CHECK(located(err) ==
        "faults.wir:15:3: @running_sum: scan: length -1 of example 0 is outside [0, 3]");
}

TEST_CASE("a max over an empty axis in compiled code is a located fault") {
  float none[1] = {}, m[2] = {};
  char err[256];
  CHECK(weft_row_max(none, 2, 0, m, err, sizeof err) == WEFT_AOT_FAULT);
  CHECK(located(err) == "faults.wir:24:3: @row_max: reduce_max: cannot reduce "
                        "tensor<B x K x f32> over an empty axis");
  // No rows: nothing to reduce, nothing to report.
  CHECK(weft_row_max(none, 0, 0, m, err, sizeof err) == WEFT_AOT_OK);
}

TEST_CASE("a value returned twice fills both output buffers") {
  std::vector<float> x = {1, 2, 3}, y(3, -1), y2(3, -1);
  char err[256];
  REQUIRE(weft_twice(x.data(), 3, y.data(), y2.data(), err, sizeof err) == WEFT_AOT_OK);
  CHECK(y == std::vector<float>{1, 4, 9});
  CHECK(y2 == std::vector<float>{1, 4, 9});
  CHECK(weft_twice(x.data(), 3, y.data(), y.data(), err, sizeof err) == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(err) ==
        "@twice: output 1 (%y) overlaps output 0 (%y): outputs must not share memory");
}

TEST_CASE("a returned parameter is copied into its output; an output may not alias an input") {
  std::vector<float> x = {1, -2}, a(2), y(2), b(2);
  char err[256];
  REQUIRE(weft_passthrough(x.data(), 2, a.data(), y.data(), b.data(), err, sizeof err) ==
          WEFT_AOT_OK);
  CHECK(a == x);
  CHECK(b == x);
  CHECK(y == std::vector<float>{2, -4});
  CHECK(weft_passthrough(x.data(), 2, x.data(), y.data(), b.data(), err, sizeof err) ==
        WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(err) == "@passthrough: output 0 (%x) overlaps input 0 (%x): outputs must "
                            "not share memory with inputs");
  // In place: the doubled result written over its own input.
  CHECK(weft_passthrough(x.data(), 2, a.data(), x.data(), b.data(), err, sizeof err) ==
        WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(err) == "@passthrough: output 1 (%y) overlaps input 0 (%x): outputs must "
                            "not share memory with inputs");
}

TEST_CASE("a declared update may write over its parameter's input; elsewhere the input stays") {
  std::vector<float> w = {1, 2, 3}, g = {10, 20, 30}, out(3, -1);
  char err[256];
  REQUIRE(weft_sgd(w.data(), g.data(), 3, out.data(), err, sizeof err) == WEFT_AOT_OK);
  CHECK(out == std::vector<float>{-4, -8, -12});
  CHECK(w == std::vector<float>{1, 2, 3});
  // aliases(0 = %w): the output may be %w's own buffer, updated in place.
  REQUIRE(weft_sgd(w.data(), g.data(), 3, w.data(), err, sizeof err) == WEFT_AOT_OK);
  CHECK(w == std::vector<float>{-4, -8, -12});
  // Only exactly that buffer: a shifted one, or another input's, still overlaps.
  CHECK(weft_sgd(w.data(), g.data(), 2, w.data() + 1, err, sizeof err) == WEFT_AOT_BAD_ARGUMENT);
  CHECK(weft_sgd(w.data(), g.data(), 3, g.data(), err, sizeof err) == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(err) == "@sgd: output 0 (%w2) overlaps input 1 (%g): outputs must not share "
                            "memory with inputs");
}
