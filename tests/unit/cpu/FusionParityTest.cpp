//===- tests/unit/cpu/FusionParityTest.cpp - fused kernels vs the interpreter ===//
//
// Every shape of fusion the CPU lowering distinguishes: rows along the last
// axis, a rank-1 domain cut into chunks (and run in parallel), reductions over
// trailing, leading and all axes, rank 0, integer and boolean chains, a fusion
// inside a scan, and the faults a fused op can raise.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "runtime/Parallel.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

namespace cpu_FusionParityTest {

using namespace weft;
using namespace weft::cputest;

namespace {

/// f(x: tensor<dims>, bias: tensor<last>) = fusion computing `ops` (over %a, %bb, %two) and
/// yielding `yields` with result types `types`.
std::string biasKernel(const std::string &dims, const std::string &last, const std::string &dt,
                       const std::string &ops, const std::string &yields,
                       const std::string &types) {
  std::string t = "tensor<" + dims + " x " + dt + ">";
  std::string bt = "tensor<" + last + " x " + dt + ">";
  int rank = 1 + static_cast<int>(std::count(dims.begin(), dims.end(), 'x'));
  return "func @f(%x: " + t + ", %bias: " + bt + ") -> (" + types + ") {\n" +
         "  %r0, %r1 = fusion %x, %bias {\n" + "  ^body(%a: " + t + ", %b: " + bt + "):\n" +
         "    %bb = broadcast %b {dims = [" + std::to_string(rank - 1) + "]} : " + t + "\n" +
         "    %two = constant {value = [2.0]} : " + t + "\n" + ops + "    yield " + yields +
         "\n  } : " + types + "\n  return %r0, %r1\n}\n";
}

} // namespace

TEST_CASE("cpu: fused elementwise rows with a broadcast argument match the interpreter") {
  for (const char *dt : {"f32", "f64"}) {
    std::string t = std::string("tensor<B x 33 x ") + dt + ">";
    std::string text =
        biasKernel("B x 33", "33", dt,
                   "    %s = add %a, %bb : " + t + "\n    %m = mul %s, %two : " + t +
                       "\n    %e = tanh %m : " + t + "\n    %g = sigmoid %s : " + t + "\n",
                   "%e, %g", t + ", " + t);
    CAPTURE(text);
    Compiled c = compileText(text);
    for (int64_t b : {1, 7, 1023})
      checkParity(c, "f", {{"B", b}}, Tolerance::ulp(4));
  }
}

TEST_CASE("cpu: fused reductions over trailing, leading and all axes match exactly") {
  for (const char *axes : {"1", "0", "0, 1"}) {
    std::string a(axes);
    std::string rt = a == "1" ? "tensor<B x f32>" : a == "0" ? "tensor<7 x f32>" : "tensor<f32>";
    std::string t = "tensor<B x 7 x f32>";
    std::string text =
        biasKernel("B x 7", "7", "f32",
                   "    %s = add %a, %bb : " + t + "\n    %m = mul %s, %two : " + t +
                       "\n    %r = reduce_sum %m {axes = [" + a + "]} : " + rt +
                       "\n    %q = reduce_max %s {axes = [" + a + "]} : " + rt + "\n",
                   "%r, %q", rt + ", " + rt);
    CAPTURE(text);
    Compiled c = compileText(text);
    for (int64_t b : {1, 33, 1023})
      checkParity(c, "f", {{"B", b}}, Tolerance::exact());
  }
}

TEST_CASE("cpu: fused mean, min and integer sums match exactly") {
  Compiled c = compileText(R"(
func @f(%x: tensor<B x 5 x f64>, %i: tensor<B x 5 x i32>) -> (tensor<B x f64>, tensor<B x f64>, tensor<B x i32>, tensor<B x 5 x i1>) {
  %m, %n, %s, %p = fusion %x, %i {
  ^body(%a: tensor<B x 5 x f64>, %j: tensor<B x 5 x i32>):
    %e = exp %a : tensor<B x 5 x f64>
    %mean = reduce_mean %e {axes = [1]} : tensor<B x f64>
    %min = reduce_min %a {axes = [1]} : tensor<B x f64>
    %k = mul %j, %j : tensor<B x 5 x i32>
    %sum = reduce_sum %k {axes = [1]} : tensor<B x i32>
    %pos = gt %a, %e : tensor<B x 5 x i1>
    yield %mean, %min, %sum, %pos
  } : tensor<B x f64>, tensor<B x f64>, tensor<B x i32>, tensor<B x 5 x i1>
  return %m, %n, %s, %p
})");
  checkParity(c, "f", {{"B", 33}}, Tolerance::ulp(4));
}

TEST_CASE("cpu: a large rank-1 fusion runs in parallel chunks, bit-identical for 1 and 2 threads") {
  Compiled c = compileText(R"(
func @f(%x: tensor<N x f32>, %y: tensor<N x f32>) -> (tensor<N x f32>, tensor<f32>) {
  %z, %s = fusion %x, %y {
  ^body(%a: tensor<N x f32>, %b: tensor<N x f32>):
    %p = mul %a, %b : tensor<N x f32>
    %q = add %p, %a : tensor<N x f32>
    %r = max %q, %b : tensor<N x f32>
    %t = reduce_sum %r {axes = [0]} : tensor<f32>
    yield %r, %t
  } : tensor<N x f32>, tensor<f32>
  return %z, %s
}
func @g(%x: tensor<N x f32>, %y: tensor<N x f32>) -> (tensor<N x f32>) {
  %z = fusion %x, %y {
  ^body(%a: tensor<N x f32>, %b: tensor<N x f32>):
    %p = mul %a, %b : tensor<N x f32>
    %q = add %p, %a : tensor<N x f32>
    %r = max %q, %b : tensor<N x f32>
    yield %r
  } : tensor<N x f32>
  return %z
})");
  for (int64_t n : {1, 4095, 4097, 300001}) {
    CAPTURE(n);
    checkParity(c, "f", {{"N", n}}, Tolerance::exact());
    checkParity(c, "g", {{"N", n}}, Tolerance::exact());
  }
  std::vector<Array> in = randomInputs(*c.module->function("g"), {{"N", 300001}}, {}, 3);
  setNumThreads(1);
  auto one = c.cpu->run("g", in);
  setNumThreads(2);
  auto two = c.cpu->run("g", in);
  setNumThreads(0);
  REQUIRE(one);
  REQUIRE(two);
  CHECK(std::memcmp((*one)[0].data(), (*two)[0].data(), (*one)[0].nbytes()) == 0);
}

TEST_CASE("cpu: fused boolean, select and cast chains and a rank-0 domain match exactly") {
  Compiled c = compileText(R"(
func @f(%x: tensor<B x 9 x i64>, %y: tensor<B x 9 x i64>, %s: tensor<f32>) -> (tensor<B x 9 x f32>, tensor<f32>) {
  %r = fusion %x, %y {
  ^body(%a: tensor<B x 9 x i64>, %b: tensor<B x 9 x i64>):
    %lt = lt %a, %b : tensor<B x 9 x i1>
    %ne = ne %a, %b : tensor<B x 9 x i1>
    %both = and %lt, %ne : tensor<B x 9 x i1>
    %m = select %both, %a, %b : tensor<B x 9 x i64>
    %f = cast %m : tensor<B x 9 x f32>
    yield %f
  } : tensor<B x 9 x f32>
  %q = fusion %s {
  ^body(%v: tensor<f32>):
    %w = mul %v, %v : tensor<f32>
    %u = neg %w : tensor<f32>
    yield %u
  } : tensor<f32>
  return %r, %q
})");
  for (int64_t b : {1, 7, 33})
    checkParity(c, "f", {{"B", b}}, Tolerance::exact());
}

TEST_CASE("cpu: a fusion inside a scan body matches the interpreter") {
  Compiled c = compileText(R"(
func @f(%xs: tensor<T x B x 16 x f32>, %W: tensor<16 x 16 x f32>, %bias: tensor<16 x f32>, %h0: tensor<B x 16 x f32>) -> (tensor<B x 16 x f32>, tensor<T x B x f32>) {
  %hT, %norms = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<B x 16 x f32>, %x: tensor<B x 16 x f32>):
    %z = matmul %x, %W : tensor<B x 16 x f32>
    %h2, %n = fusion %z, %h, %bias {
    ^body(%a: tensor<B x 16 x f32>, %p: tensor<B x 16 x f32>, %b: tensor<16 x f32>):
      %bb = broadcast %b {dims = [1]} : tensor<B x 16 x f32>
      %s = add %a, %bb : tensor<B x 16 x f32>
      %g = sigmoid %s : tensor<B x 16 x f32>
      %t = mul %g, %p : tensor<B x 16 x f32>
      %sq = mul %t, %t : tensor<B x 16 x f32>
      %n2 = reduce_sum %sq {axes = [1]} : tensor<B x f32>
      yield %t, %n2
    } : tensor<B x 16 x f32>, tensor<B x f32>
    yield %h2, %n
  } : tensor<B x 16 x f32>, tensor<T x B x f32>
  return %hT, %norms
})");
  // matmul and sigmoid differ from the interpreter by rounding, which the recurrence carries:
  // each step sums 16 products of size up to 4 (|h| stays below 2), 5 steps.
  checkParity(c, "f", {{"T", 5}, {"B", 3}}, Tolerance::sum(5 * 16, 64));
}

TEST_CASE("cpu: faults inside a fused kernel are errors naming the op") {
  Compiled c = compileText(R"(
func @div(%x: tensor<N x i32>, %y: tensor<N x i32>) -> (tensor<N x i32>) {
  %r = fusion %x, %y {
  ^body(%a: tensor<N x i32>, %b: tensor<N x i32>):
    %q = div %a, %b : tensor<N x i32>
    %s = add %q, %a : tensor<N x i32>
    yield %s
  } : tensor<N x i32>
  return %r
}
func @empty(%x: tensor<B x K x f32>) -> (tensor<B x f32>) {
  %r = fusion %x {
  ^body(%a: tensor<B x K x f32>):
    %e = exp %a : tensor<B x K x f32>
    %m = reduce_max %e {axes = [1]} : tensor<B x f32>
    yield %m
  } : tensor<B x f32>
  return %r
})");
  Array x(DType::I32, {300001}), y(DType::I32, {300001});
  for (int64_t i = 0; i < x.numel(); ++i) {
    x.setInt(i, i);
    y.setInt(i, i == 123456 ? 0 : 3);
  }
  auto r = c.cpu->run("div", std::vector<Array>{x, y});
  REQUIRE_FALSE(r);
  CHECK(r.diag().message == "div: integer division by zero at element 123456 of tensor<N x i32>");
  auto e = c.cpu->run("empty", std::vector<Array>{Array(DType::F32, {4, 0})});
  REQUIRE_FALSE(e);
  CHECK(e.diag().message == "reduce_max: cannot reduce tensor<B x K x f32> over an empty axis");
}

TEST_CASE("cpu: a fused kernel writes its element result over an operand that dies there") {
  Compiled c = compileText(R"(
func @f(%x: tensor<N x f32>, %v: tensor<f32>) -> (tensor<N x f32>) {
  %t = tanh %x : tensor<N x f32>
  %y = fusion %t, %v {
  ^body(%a: tensor<N x f32>, %s: tensor<f32>):
    %sb = broadcast %s {dims = []} : tensor<N x f32>
    %m = mul %a, %sb : tensor<N x f32>
    %e = exp %m : tensor<N x f32>
    yield %e
  } : tensor<N x f32>
  %z = fusion %y, %x {
  ^body(%c: tensor<N x f32>, %d: tensor<N x f32>):
    %p = mul %c, %d : tensor<N x f32>
    %q = add %p, %c : tensor<N x f32>
    yield %q
  } : tensor<N x f32>
  return %z
})");
  // %t's buffer holds %y too (the broadcast scalar is not read per element): one arena buffer.
  auto r = c.cpu->memoryPlan("f", {{"N", 1000}});
  REQUIRE(r);
  CHECK(r->buffers == 1);
  // exp is within 4 ulps (8 roundings) of the interpreter's, the mul and add round once each;
  // |z| <= 2 e^2 + e^2 < 23, and z = y (x + 1) cancels near x = -1: compare absolutely.
  for (int64_t n : {1, 1000, 300001})
    checkParity(c, "f", {{"N", n}}, Tolerance::chain(10, 23));
}

TEST_CASE("cpu: f32 tanh and sigmoid (through double exp) hold at edge values") {
  Compiled c = compileText(R"(
func @f(%x: tensor<N x f32>) -> (tensor<N x f32>, tensor<N x f32>) {
  %t = tanh %x : tensor<N x f32>
  %s = sigmoid %x : tensor<N x f32>
  return %t, %s
})");
  std::vector<float> v = {0.0f,   -0.0f,    1e-30f,    -1e-30f, 0x1p-12f, -0x1p-12f, 0x1.1p-12f,
                          1e-3f,  -1e-3f,   0.25f,     -0.5f,   1.0f,     9.0f,      -9.0f,
                          20.0f,  -20.0f,   88.0f,     -88.0f,  100.0f,   -104.0f,   1e30f,
                          -1e30f, INFINITY, -INFINITY, NAN,     3.4e38f,  -3.4e38f,  1.17e-38f};
  Array x(DType::F32, {static_cast<int64_t>(v.size())});
  for (size_t i = 0; i < v.size(); ++i)
    x.setDouble(static_cast<int64_t>(i), v[i]);
  auto want = reference::run(*c.module->function("f"), std::vector<Array>{x}, {});
  REQUIRE(want);
  checkTargets(c, "f", {x}, {}, *want, Tolerance::ulp(4));
  for (const Target &t : c.targets) {
    CAPTURE(t.backend);
    auto got = t.exe->run("f", std::vector<Array>{x});
    REQUIRE(got);
    for (size_t r = 0; r < 2; ++r) {
      CAPTURE(r);
      for (int64_t i = 0; i < x.numel(); ++i) // signs of zeros too
        CHECK(std::signbit((*got)[r].getDouble(i)) == std::signbit((*want)[r].getDouble(i)));
    }
  }
}

} // namespace cpu_FusionParityTest
