#include "frontend/Weft.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <doctest/doctest.h>

namespace frontend_BroadcastTest {

using namespace weft;

TEST_CASE("binary ops broadcast numpy-style") {
  Graph g("bc");
  Dim B = g.dim("B");
  Tensor a = g.input("a", {B, 1, 4});
  Tensor b = g.input("b", {3, 1});
  Tensor c = g.input("c", {B, 3, 4});
  CHECK((a + b).type().str() == "tensor<B x 3 x 4 x f32>");
  CHECK((a * c).type().str() == "tensor<B x 3 x 4 x f32>");
  CHECK(max(b, c).type().str() == "tensor<B x 3 x 4 x f32>");
  CHECK(lt(a, b).type().str() == "tensor<B x 3 x 4 x i1>");
  CHECK(select(lt(b, b), a, c).type().str() == "tensor<B x 3 x 4 x f32>");
  g.output(a + b);
  REQUIRE(ir::verify(*g.build()).isOk());
}

TEST_CASE("same-shape operands get no broadcast op") {
  Graph g("same");
  Tensor a = g.input("a", {2, 3});
  Tensor s = a + a;
  CHECK(s.value()->definingOp()->operand(0) == a.value());
  CHECK(s.value()->definingOp()->operand(1) == a.value());
}

TEST_CASE("scalars become splat constants of the tensor's dtype") {
  Graph g("scalars");
  Tensor x = g.input("x", {2}, DType::F64);
  Tensor i = g.input("i", {2}, DType::I32);
  Tensor y = 1.0 - x * 0.5f;
  Tensor k = i + 2;
  CHECK(y.type().str() == "tensor<2 x f64>");
  CHECK(k.type().str() == "tensor<2 x i32>");
  g.outputs({y, k});
  std::string text = ir::print(*g.build());
  CHECK(text.find("constant {value = [0.5]} : tensor<2 x f64>") != std::string::npos);
  CHECK(text.find("constant {value = [2]} : tensor<2 x i32>") != std::string::npos);
}

TEST_CASE("matmul broadcasts a rank-2 weight over leading dims by a reshape") {
  Graph g("mm");
  Dim B = g.dim("B"), T = g.dim("T");
  Tensor x = g.input("x", {B, T, 8});
  Tensor w = g.input("w", {8, 5});
  Tensor y = matmul(x, w);
  CHECK(y.type().str() == "tensor<B x T x 5 x f32>");
  Tensor bx = g.input("bx", {4, 2, 8});
  Tensor bw = g.input("bw", {1, 8, 3});
  CHECK(matmul(bx, bw).type().str() == "tensor<4 x 2 x 3 x f32>");
  g.output(y);
  std::string text = ir::print(*g.build());
  CHECK(text.find("reshape %x : tensor<B*T x 8 x f32>") != std::string::npos);
}

TEST_CASE("reductions, keepdims and shape ops have the right types") {
  Graph g("shapes");
  Dim B = g.dim("B");
  Tensor x = g.input("x", {B, 6, 4});
  CHECK(sum(x, {1}).type().str() == "tensor<B x 4 x f32>");
  CHECK(mean(x, {-1, 1}, /*keepdims=*/true).type().str() == "tensor<B x 1 x 1 x f32>");
  CHECK(argmax(x, 2).type().str() == "tensor<B x 6 x i64>");
  CHECK(transpose(x, {2, 0, 1}).type().str() == "tensor<4 x B x 6 x f32>");
  CHECK(reshape(x, {B, -1}).type().str() == "tensor<B x 24 x f32>");
  auto parts = split<3>(x, 1);
  CHECK(parts[2].type().str() == "tensor<B x 2 x 4 x f32>");
  CHECK(concat({x, x}, 0).type().str() == "tensor<2*B x 6 x 4 x f32>");
  CHECK(pad(x, {0, 1, 0}, {0, 1, 2}).type().str() == "tensor<B x 8 x 6 x f32>");
  CHECK(cast(x, DType::I32).type().str() == "tensor<B x 6 x 4 x i32>");
  CHECK(log_softmax(x, 1).type() == x.type());
  CHECK(iota({3, 2}, 1).type().str() == "tensor<3 x 2 x i64>");
  CHECK(random_normal({3}, 7).type().str() == "tensor<3 x f32>");
  Tensor idx = g.input("idx", {5}, DType::I64);
  Tensor table = g.input("table", {10, 4});
  Tensor rows = gather(table, idx);
  CHECK(rows.type().str() == "tensor<5 x 4 x f32>");
  CHECK(scatter_add(table, idx, rows).type() == table.type());
  g.output(rows);
  CHECK(ir::verify(*g.build()).isOk());
}

} // namespace frontend_BroadcastTest
