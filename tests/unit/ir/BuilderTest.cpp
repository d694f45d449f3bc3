#include "ir/Builder.h"

#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <doctest/doctest.h>

namespace ir_BuilderTest {

using namespace weft::ir;

TEST_CASE("builder type-checks ops and the printer shows them, scan included") {
  Module m;
  Function &f = m.addFunction("rnn");
  Dim B = Dim::symbol("B"), T = Dim::symbol("T");
  Value *xs = f.addParam(Type({T, B, 4}, DType::F32), "xs");
  Value *w = f.addParam(Type({4, 4}, DType::F32), "W");
  OpBuilder b(f.body());
  Value *h0 = b.splat(Type({B, 4}, DType::F32), 0.0);
  auto scan =
      b.beginRegionOp(OpKind::Scan, {h0, xs}, {{"num_carry", int64_t(1)}, {"num_seq", int64_t(1)}});
  REQUIRE(scan.isOk());
  OpBuilder in((*scan)->region());
  Block &body = (*scan)->region();
  Value *xw = *in.create1(OpKind::Matmul, {body.arg(1), w});
  Value *s = *in.create1(OpKind::Add, {xw, body.arg(0)});
  Value *h = *in.create1(OpKind::Tanh, {s});
  REQUIRE(in.create(OpKind::Yield, {h, h}).isOk());
  REQUIRE(b.finishRegionOp(*scan).isOk());
  REQUIRE(b.create(OpKind::Return, {(*scan)->result(0), (*scan)->result(1)}).isOk());
  REQUIRE(verify(m).isOk());
  CHECK(
      print(m) ==
      R"(func @rnn(%xs: tensor<T x B x 4 x f32>, %W: tensor<4 x 4 x f32>) -> (tensor<B x 4 x f32>, tensor<T x B x 4 x f32>) {
  %0 = constant {value = [0.0]} : tensor<B x 4 x f32>
  %1, %2 = scan carry(%0) over(%xs) {
  ^body(%3: tensor<B x 4 x f32>, %4: tensor<B x 4 x f32>):
    %5 = matmul %4, %W : tensor<B x 4 x f32>
    %6 = add %5, %3 : tensor<B x 4 x f32>
    %7 = tanh %6 : tensor<B x 4 x f32>
    yield %7, %7
  } : tensor<B x 4 x f32>, tensor<T x B x 4 x f32>
  return %1, %2
}
)");
}

TEST_CASE("builder rejects mismatched shapes naming both") {
  Module m;
  Function &f = m.addFunction("bad");
  Value *a = f.addParam(Type({2, 3}, DType::F32), "a");
  Value *c = f.addParam(Type({4, 5}, DType::F32), "c");
  OpBuilder b(f.body());
  auto r = b.create1(OpKind::Matmul, {a, c});
  REQUIRE_FALSE(r.isOk());
  CHECK(r.diag().message == "matmul: inner dims differ: 3 vs 4 ([2, 3] vs [4, 5])");
}

} // namespace ir_BuilderTest
