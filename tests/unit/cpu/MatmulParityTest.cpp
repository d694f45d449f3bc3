//===- tests/unit/cpu/MatmulParityTest.cpp - the packed f32 GEMM vs the interpreter -===//
//
// f32 matmul lowers to a packed, cache-blocked GEMM (EmitMatmul.cpp): micro-tiles of MR rows
// by NR columns, blocks of MC rows, KC of the reduction and NC columns. These cases put M, N
// and K at 1, at odd sizes that leave edge tiles (7, 33, 65, 129, 257), past one K block
// (257 > 256) and one N block (2049 > 2048), at 0, batched, and symbolic (one compiled
// function, many sizes); 1 to 4 rows take the unpacked small-M kernel. f32 sums differ in order
// from the interpreter's: each element is within the gamma_K bound of a sum of K terms of size at
// most 4 (matmulTolerance in Parity.h; inputs in [-2, 2]).
//
//===----------------------------------------------------------------------===//
#include "Parity.h"

#include <fmt/format.h>

namespace weft::cputest::cpu_MatmulParityTest {
namespace {

struct Mnk {
  int64_t M, N, K;
};

TEST_CASE("cpu: f32 matmul at static odd sizes matches the interpreter") {
  for (Mnk s : std::vector<Mnk>{{1, 1, 1},
                                {7, 33, 65},
                                {33, 7, 129},
                                {65, 129, 7},
                                {129, 65, 257},
                                {257, 257, 33},
                                {1, 257, 257},
                                {257, 1, 257},
                                {257, 257, 1},
                                {13, 48, 16}}) {
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.K);
    Compiled c = compileText(fmt::format(R"(
func @f(%a: tensor<{0} x {2} x f32>, %b: tensor<{2} x {1} x f32>) -> (tensor<{0} x {1} x f32>) {{
  %c = matmul %a, %b : tensor<{0} x {1} x f32>
  return %c
}})",
                                         s.M, s.N, s.K));
    checkParity(c, "f", {}, matmulTolerance(s.K));
  }
}

TEST_CASE("cpu: f32 matmul with symbolic dims matches the interpreter at every size") {
  Compiled c = compileText(R"(
func @f(%a: tensor<M x K x f32>, %b: tensor<K x N x f32>) -> (tensor<M x N x f32>) {
  %c = matmul %a, %b : tensor<M x N x f32>
  return %c
})");
  for (Mnk s : std::vector<Mnk>{{1, 1, 1},
                                {7, 33, 65},
                                {257, 129, 33},
                                {65, 257, 257},
                                {12, 32, 256},
                                {145, 31, 513},
                                {3, 2049, 5},
                                {0, 5, 7},
                                {5, 0, 7},
                                {5, 7, 0}}) {
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.K);
    checkParity(c, "f", {{"M", s.M}, {"N", s.N}, {"K", s.K}}, matmulTolerance(s.K));
  }
}

TEST_CASE("cpu: batched f32 matmul matches the interpreter (symbolic and static batch)") {
  Compiled c = compileText(R"(
func @f(%a: tensor<B x M x K x f32>, %b: tensor<B x K x N x f32>, %x: tensor<2 x B x 7 x K x f32>, %y: tensor<2 x B x K x 33 x f32>) -> (tensor<B x M x N x f32>, tensor<2 x B x 7 x 33 x f32>) {
  %c = matmul %a, %b : tensor<B x M x N x f32>
  %z = matmul %x, %y : tensor<2 x B x 7 x 33 x f32>
  return %c, %z
})");
  for (auto [B, s] : std::vector<std::pair<int64_t, Mnk>>{{3, {7, 33, 257}},
                                                          {2, {129, 65, 65}},
                                                          {1, {1, 1, 1}},
                                                          {0, {7, 7, 7}},
                                                          {4, {13, 17, 3}}}) {
    CAPTURE(B);
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.K);
    checkParity(c, "f", {{"B", B}, {"M", s.M}, {"N", s.N}, {"K", s.K}}, matmulTolerance(s.K));
  }
}

TEST_CASE("cpu: f32 matmul with 1 to 4 rows (the unpacked small-M kernel) matches the "
          "interpreter") {
  // Static M of 1-4 and a symbolic M bound to 1 read B in place (EmitSmallMatmul.cpp): N
  // leaves masked tails of every length (1, 7, 33, 1023, 129 with chunks of 16-128 columns),
  // K = 0 writes zeros, and a batch steps through B and C.
  for (Mnk s : std::vector<Mnk>{{1, 1, 1},
                                {1, 1023, 257},
                                {2, 33, 65},
                                {3, 7, 300},
                                {4, 129, 33},
                                {4, 1024, 256},
                                {2, 7, 0}}) {
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.K);
    Compiled c = compileText(fmt::format(R"(
func @f(%a: tensor<3 x {0} x {2} x f32>, %b: tensor<3 x {2} x {1} x f32>) -> (tensor<3 x {0} x {1} x f32>) {{
  %c = matmul %a, %b : tensor<3 x {0} x {1} x f32>
  return %c
}})",
                                         s.M, s.N, s.K));
    checkParity(c, "f", {}, matmulTolerance(s.K));
  }
  Compiled c = compileText(R"(
func @f(%a: tensor<M x K x f32>, %b: tensor<K x N x f32>) -> (tensor<M x N x f32>) {
  %c = matmul %a, %b : tensor<M x N x f32>
  return %c
})");
  for (Mnk s : std::vector<Mnk>{{1, 17, 300}, {1, 1, 0}, {1, 4099, 3}}) {
    CAPTURE(s.N);
    CAPTURE(s.K);
    checkParity(c, "f", {{"M", s.M}, {"N", s.N}, {"K", s.K}}, matmulTolerance(s.K));
  }
}

TEST_CASE("cpu: f32 matmul compiled for AVX2 and SSE2 CPUs (other tile shapes) matches the "
          "interpreter") {
  // The tiles follow the target's vectors (6 x 16 on AVX2, 6 x 8 with SSE2, 6 x 64 on
  // AVX-512): compiling for an older CPU runs the kernels another machine would get.
  const char *text = R"(
func @f(%a: tensor<B x M x K x f32>, %b: tensor<B x K x N x f32>) -> (tensor<B x M x N x f32>) {
  %c = matmul %a, %b : tensor<B x M x N x f32>
  return %c
})";
  for (const char *cpuName : {"x86-64-v3", "x86-64"}) {
    CAPTURE(cpuName);
    auto m = ir::parseModule(text);
    REQUIRE(m);
    backends::CompileOptions o;
    o.target = cpuName;
    Compiled c = compileModule(std::move(*m), o);
    for (Mnk s : std::vector<Mnk>{{1, 33, 65}, {7, 33, 257}, {13, 65, 300}, {64, 1024, 256}}) {
      CAPTURE(s.M);
      CAPTURE(s.N);
      CAPTURE(s.K);
      checkParity(c, "f", {{"B", 2}, {"M", s.M}, {"N", s.N}, {"K", s.K}}, matmulTolerance(s.K));
    }
  }
  cpu::CompileOptions bad;
  bad.cpu = "not-a-cpu";
  auto m = ir::parseModule(text);
  REQUIRE(m);
  auto exe = cpu::compile(**m, bad);
  REQUIRE_FALSE(exe);
  CHECK(exe.diag().str().find("unknown cpu 'not-a-cpu'") != std::string::npos);
}

TEST_CASE("cpu: f64 matmul (the same packed GEMM) matches the interpreter") {
  Compiled c = compileText(R"(
func @f(%a: tensor<B x M x K x f64>, %b: tensor<B x K x N x f64>) -> (tensor<B x M x N x f64>) {
  %c = matmul %a, %b : tensor<B x M x N x f64>
  return %c
})");
  for (Mnk s :
       std::vector<Mnk>{{1, 1, 1}, {7, 33, 65}, {257, 17, 129}, {13, 1025, 3}, {9, 9, 300}}) {
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.K);
    checkParity(c, "f", {{"B", 2}, {"M", s.M}, {"N", s.N}, {"K", s.K}}, matmulTolerance(s.K));
  }
}

TEST_CASE("cpu: f32 matmul with exactly representable sums matches the interpreter bit for bit") {
  // Small integers: every partial sum is exact in f32, so order does not matter. Catches a
  // wrong element anywhere (a misplaced edge tile, a stale packing buffer) at zero tolerance.
  Compiled c = compileText(R"(
func @f(%a: tensor<M x K x i32>, %b: tensor<K x N x i32>) -> (tensor<M x N x f32>) {
  %af = cast %a : tensor<M x K x f32>
  %bf = cast %b : tensor<K x N x f32>
  %c = matmul %af, %bf : tensor<M x N x f32>
  return %c
})");
  for (Mnk s : std::vector<Mnk>{{33, 65, 257}, {257, 31, 300}, {2, 2050, 3}, {150, 40, 9}}) {
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.K);
    checkParity(c, "f", {{"M", s.M}, {"N", s.N}, {"K", s.K}}, Tolerance::exact());
  }
}

} // namespace
} // namespace weft::cputest::cpu_MatmulParityTest
