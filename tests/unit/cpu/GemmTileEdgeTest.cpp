//===- tests/unit/cpu/GemmTileEdgeTest.cpp - the GEMM's tile edges, f32 and f64 -===//
//
// The packed GEMM (EmitMatmul.cpp, sizes in MatmulBlocks.h) computes only the vectors of a
// strip that hold a column (a narrow last strip is a narrower tile), masks the lanes past N
// and skips the rows past M when it writes C, and reads A in place where N spans at most two
// strips (N <= 128 f32 on AVX-512, 64 with AVX2). These shapes put every edge in both A paths:
// N = 1, 50, 65 (one vector past a strip) and 129, 191; M not a multiple of 6; K = 1, 5 and
// past one K block (300 > 256, so the second block adds into a masked edge); f32 and f64;
// and 1 vs 2 threads bit-identical, as the GEMM promises.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

#include <cstring>

namespace weft::cputest::cpu_GemmTileEdgeTest {
namespace {

struct Mnk {
  int64_t M, N, K;
};

const std::vector<Mnk> kEdges = {{13, 50, 200},  {128, 50, 200}, {7, 1, 33},    {9, 50, 1},
                                 {6, 64, 5},     {7, 65, 3},     {11, 80, 300}, {25, 129, 17},
                                 {19, 191, 300}, {37, 130, 1}};

std::string matmulText(Mnk s, const char *dt) {
  return fmt::format(R"(
func @f(%a: tensor<{0} x {2} x {3}>, %b: tensor<{2} x {1} x {3}>) -> (tensor<{0} x {1} x {3}>) {{
  %c = matmul %a, %b : tensor<{0} x {1} x {3}>
  return %c
}})",
                     s.M, s.N, s.K, dt);
}

TEST_CASE("cpu: GEMM tile edges (N = 1, 50, 65, 129, K = 1, odd M) match the interpreter, f32 "
          "and f64") {
  // f64 where A is read in place (the symbolic case below packs it).
  std::vector<std::pair<const char *, Mnk>> cases;
  for (Mnk s : kEdges) {
    cases.push_back({"f32", s});
    if (s.N <= 64)
      cases.push_back({"f64", s});
  }
  for (auto [dt, s] : cases) {
    CAPTURE(dt);
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.K);
    Compiled c = compileText(matmulText(s, dt));
    checkParity(c, "f", {}, matmulTolerance(s.K));
  }
}

TEST_CASE("cpu: GEMM tile edges with symbolic dims (A packed) match the interpreter") {
  Compiled c = compileText(R"(
func @f(%a: tensor<M x K x f64>, %b: tensor<K x N x f64>) -> (tensor<M x N x f64>) {
  %c = matmul %a, %b : tensor<M x N x f64>
  return %c
})");
  for (Mnk s : kEdges) {
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.K);
    checkParity(c, "f", {{"M", s.M}, {"N", s.N}, {"K", s.K}}, matmulTolerance(s.K));
  }
}

TEST_CASE("cpu: GEMM tile edges with exactly representable sums match bit for bit") {
  // Small integers: every partial sum is exact, so any wrong, missing or doubled element of an
  // edge tile (a mask off by one, a row past M written) shows at zero tolerance.
  for (Mnk s : {Mnk{128, 50, 200}, Mnk{7, 1, 33}, Mnk{9, 50, 1}, Mnk{7, 65, 3}, Mnk{11, 80, 300},
                Mnk{19, 191, 300}}) {
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.K);
    Compiled c = compileText(fmt::format(R"(
func @f(%a: tensor<{0} x {2} x i32>, %b: tensor<{2} x {1} x i32>, %c0: tensor<{0} x {1} x f32>) -> (tensor<{0} x {1} x f32>) {{
  %af = cast %a : tensor<{0} x {2} x f32>
  %bf = cast %b : tensor<{2} x {1} x f32>
  %c = matmul %af, %bf : tensor<{0} x {1} x f32>
  %d = add %c, %c0 : tensor<{0} x {1} x f32>
  return %d
}})",
                                         s.M, s.N, s.K));
    checkParity(c, "f", {}, Tolerance::exact());
  }
}

TEST_CASE("cpu: the GEMM's results are bit-identical on 1 and 2 threads at its tile edges") {
  for (Mnk s : {Mnk{128, 50, 200}, Mnk{200, 191, 300}, Mnk{61, 1, 7}}) {
    CAPTURE(s.M);
    CAPTURE(s.N);
    CAPTURE(s.K);
    Compiled c = compileText(matmulText(s, "f32"));
    std::vector<Array> in = randomInputs(*c.module->function("f"), {}, {}, 5);
    setNumThreads(1);
    auto one = c.cpu->run("f", in);
    setNumThreads(2);
    auto two = c.cpu->run("f", in);
    setNumThreads(0);
    REQUIRE_OK(one);
    REQUIRE_OK(two);
    CHECK(std::memcmp((*one)[0].data(), (*two)[0].data(), (*one)[0].nbytes()) == 0);
  }
}

} // namespace
} // namespace weft::cputest::cpu_GemmTileEdgeTest
