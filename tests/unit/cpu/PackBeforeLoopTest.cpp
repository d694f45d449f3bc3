//===- tests/unit/cpu/PackBeforeLoopTest.cpp - a loop's weights packed once -===//
//
// A matmul in a scan or while body whose B comes from outside the loop reads B from a copy
// packed before the first trip (backends/cpu/Prepack.h), block by block. These cases cross
// block edges both ways (K = 257 and 1100 past KC = 256, N = 2100 past NC = 1024 with AVX2's
// tiles and 2048 with AVX-512's), run symbolic M at 1 (the small-M kernel, which reads B in place)
// and above, and check the packed copy against the interpreter. tests/lit/cpu/pack_before_loop.wir
// pins that the packing happens before the loop.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "backends/cpu/Prepack.h"

namespace weft::cputest::cpu_PackBeforeLoopTest {
namespace {

const char *kScan = R"(
func @f(%xs: tensor<T x B x 257 x f32>, %ys: tensor<T x B x 1100 x f32>, %W: tensor<257 x 2100 x f32>, %V: tensor<1100 x 257 x f32>, %h0: tensor<B x 257 x f32>) -> (tensor<B x 257 x f32>, tensor<T x B x 2100 x f32>, tensor<T x B x 257 x f32>) {
  %hT, %ps, %qs = scan carry(%h0) over(%xs, %ys) {
  ^body(%h: tensor<B x 257 x f32>, %x: tensor<B x 257 x f32>, %y: tensor<B x 1100 x f32>):
    %p = matmul %x, %W : tensor<B x 2100 x f32>
    %q = matmul %y, %V : tensor<B x 257 x f32>
    %h2 = add %h, %x : tensor<B x 257 x f32>
    yield %h2, %p, %q
  } : tensor<B x 257 x f32>, tensor<T x B x 2100 x f32>, tensor<T x B x 257 x f32>
  return %hT, %ps, %qs
})";

// h doubles on every trip: at most 2 * 2^2 = 8 on the last one.
const char *kWhile = R"(
func @f(%f0: tensor<B x i1>, %h0: tensor<B x 40 x f32>, %W: tensor<40 x 300 x f32>) -> (tensor<B x i1>, tensor<B x 40 x f32>, tensor<3 x B x 300 x f32>, tensor<i64>) {
  %fin, %h, %ps, %n = while finished(%f0) carry(%h0) {max_trips = 3} {
  ^body(%h1: tensor<B x 40 x f32>):
    %p = matmul %h1, %W : tensor<B x 300 x f32>
    %h2 = add %h1, %h1 : tensor<B x 40 x f32>
    %d = not %f0 : tensor<B x i1>
    yield %d, %h2, %p
  } : tensor<B x i1>, tensor<B x 40 x f32>, tensor<3 x B x 300 x f32>, tensor<i64>
  return %fin, %h, %ps, %n
})";

/// The matmuls of `f`'s first loop whose B the loop packs before its first trip.
size_t packedBeforeLoop(const ir::Function &f) {
  for (const auto &op : f.body().ops())
    if (op->kind() == ir::OpKind::Scan || op->kind() == ir::OpKind::While)
      return cpu::matmulsPackedBeforeLoop(*op).size();
  return 0;
}

TEST_CASE("cpu: a scan's weights packed before the loop give the interpreter's results") {
  Compiled c = compileText(kScan);
  REQUIRE(packedBeforeLoop(*c.module->function("f")) == 2);
  for (int64_t B : {1, 2, 9}) {
    CAPTURE(B);
    checkParity(c, "f", {{"T", 3}, {"B", B}}, matmulTolerance(1100));
  }
}

TEST_CASE("cpu: a while's weights packed before the loop give the interpreter's results") {
  Compiled c = compileText(kWhile);
  REQUIRE(packedBeforeLoop(*c.module->function("f")) == 1);
  for (int64_t B : {1, 7}) {
    CAPTURE(B);
    checkParity(c, "f", {{"B", B}}, Tolerance::sum(40, 40 * 8 * 2));
  }
}

TEST_CASE("cpu: a B computed in the loop body, or read by the small-M kernel, is not prepacked") {
  auto m = ir::parseModule(R"(
func @f(%xs: tensor<T x 8 x 16 x f32>, %W: tensor<16 x 16 x f32>, %h0: tensor<2 x 16 x f32>, %a0: tensor<8 x 16 x f32>) -> (tensor<2 x 16 x f32>, tensor<8 x 16 x f32>) {
  %hT, %aT = scan carry(%h0, %a0) over(%xs) {
  ^body(%h: tensor<2 x 16 x f32>, %a: tensor<8 x 16 x f32>, %x: tensor<8 x 16 x f32>):
    %Wt = transpose %W {perm = [1, 0]} : tensor<16 x 16 x f32>
    %small = matmul %h, %W : tensor<2 x 16 x f32>
    %xt = transpose %x {perm = [1, 0]} : tensor<16 x 8 x f32>
    %inner = matmul %a, %xt : tensor<8 x 8 x f32>
    %y = matmul %inner, %a : tensor<8 x 16 x f32>
    %z = matmul %x, %Wt : tensor<8 x 16 x f32>
    %a2 = add %y, %z : tensor<8 x 16 x f32>
    yield %small, %a2
  } : tensor<2 x 16 x f32>, tensor<8 x 16 x f32>
  return %hT, %aT
})");
  REQUIRE_OK(m);
  CHECK(packedBeforeLoop(*(*m)->function("f")) == 0);
}

} // namespace
} // namespace weft::cputest::cpu_PackBeforeLoopTest
