#include "frontend/Weft.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <doctest/doctest.h>

namespace frontend_GraphTest {

using namespace weft;

namespace {

bool contains(const std::string &s, const std::string &part) {
  return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("a tiny graph prints exactly the expected IR") {
  Graph g("tiny");
  Dim B = g.dim("B");
  Tensor x = g.input("x", {B, 4});
  Tensor b = g.param("b", {4}, init::zeros());
  g.output(relu(x + b).named("y"));
  auto m = g.build();
  REQUIRE(ir::verify(*m).isOk());
  CHECK(ir::print(*m) ==
        R"(func @tiny(%x: tensor<B x 4 x f32>, %b: tensor<4 x f32>) -> (tensor<B x 4 x f32>) {
  %0 = broadcast %b {dims = [1]} : tensor<B x 4 x f32>
  %1 = add %x, %0 : tensor<B x 4 x f32>
  %y = relu %1 : tensor<B x 4 x f32>
  return %y
}
)");
}

TEST_CASE("an MLP builds, verifies and records the caller's locations") {
  Graph g("mlp");
  Dim B = g.dim("B");
  Tensor x = g.input("x", {B, 784});
  Tensor W1 = g.param("W1", {784, 256}, init::he());
  Tensor b1 = g.param("b1", {256}, init::zeros());
  Tensor W2 = g.param("W2", {256, 10}, init::xavier());
  Tensor b2 = g.param("b2", {10}, init::zeros());
  Tensor h = relu(matmul(x, W1) + b1);
  Tensor p = softmax(matmul(h, W2) + b2, -1);
  int line = __LINE__ - 1;
  g.output(p);
  auto m = g.build();
  REQUIRE(ir::verify(*m).isOk());
  std::string text = ir::print(*m);
  for (const char *op : {"matmul", "broadcast", "relu", "reduce_max", "exp", "reduce_sum", "div"})
    CHECK_MESSAGE(contains(text, std::string(" = ") + op + " "), op);
  CHECK(contains(text, "-> (tensor<B x 10 x f32>)"));
  const ir::Op *ret = m->functions()[0]->returnOp();
  REQUIRE(ret);
  const ir::Op *div = ret->operand(0)->definingOp();
  REQUIRE(div);
  CHECK(div->kind() == ir::OpKind::Div);
  CHECK(div->loc().line == static_cast<uint32_t>(line));
  CHECK(contains(div->loc().file, "GraphTest.cpp"));
  CHECK(g.params().size() == 4);
  CHECK(g.params()[0].name == "W1");
  CHECK(g.params()[0].position == 1);
}

TEST_CASE("build can be called twice and returns independent modules") {
  Graph g("twice");
  Tensor x = g.input("x", {2, 3});
  g.output(exp(x));
  auto a = g.build();
  g.output(x * 2.0);
  auto b = g.build();
  CHECK(a->functions()[0]->resultTypes().size() == 1);
  CHECK(b->functions()[0]->resultTypes().size() == 2);
  CHECK(ir::verify(*b).isOk());
}

TEST_CASE("build without outputs is an error") {
  Graph g("empty");
  g.input("x", {2});
  CHECK_THROWS_WITH_AS(g.build(), doctest::Contains("has no outputs"), Error);
}

TEST_CASE("an LSTM layer written by hand builds a scan with lengths") {
  Graph g("lstm");
  Dim B = g.dim("B"), T = g.dim("T");
  Tensor xs = g.input("xs", {T, B, 8});
  Tensor len = g.input("len", {B}, DType::I32);
  Tensor W = g.param("W", {8 + 16, 64}, init::xavier());
  Tensor bias = g.param("bias", {64}, init::zeros());
  auto [hT, cT, hs] = scan(
      xs, {zeros({B, 16}), zeros({B, 16})},
      [&](Tensor x, Tensor h, Tensor c) {
        Tensor z = matmul(concat({x, h}, 1), W) + bias;
        auto [i, f, gg, o] = split<4>(z, 1);
        Tensor c2 = sigmoid(f) * c + sigmoid(i) * tanh(gg);
        Tensor h2 = sigmoid(o) * tanh(c2);
        return carry(h2, c2).emit(h2);
      },
      ScanOptions().withLengths(len));
  g.outputs({hT, cT, hs});
  auto m = g.build();
  REQUIRE(ir::verify(*m).isOk());
  std::string text = ir::print(*m);
  CHECK(contains(text, "scan carry("));
  CHECK(contains(text, "lengths(%len)"));
  CHECK(contains(text, "concat"));
  CHECK(contains(text, "slice"));
  CHECK(contains(text, "sigmoid"));
  CHECK(hT.type().str() == "tensor<B x 16 x f32>");
  CHECK(hs.type().str() == "tensor<T x B x 16 x f32>");
  const ir::Op *scanOp = hT.value()->definingOp();
  REQUIRE(scanOp);
  // The IR body's order: carries first, then the per-step slice.
  CHECK(scanOp->region().arg(0)->type().str() == "tensor<B x 16 x f32>");
  CHECK(scanOp->region().arg(2)->type().str() == "tensor<B x 8 x f32>");
}

TEST_CASE("nested scans and reverse scans build") {
  Graph g("nested");
  Tensor xs = g.input("xs", {5, 3, 2});
  auto [total, rows] = scan(xs, {zeros({2})}, [&](Tensor row, Tensor acc) {
    auto [inner, partial] = scan(
        row, {zeros({2})}, [&](Tensor x, Tensor a) { return carry(a + x).emit(a); },
        ScanOptions().reversed());
    return carry(acc + inner).emit(partial);
  });
  g.outputs({total, rows});
  auto m = g.build();
  REQUIRE(ir::verify(*m).isOk());
  CHECK(contains(ir::print(*m), "{reverse = 1}"));
  CHECK(rows.type().str() == "tensor<5 x 3 x 2 x f32>");
}

TEST_CASE("a greedy decoding loop builds as a while") {
  Graph g("decode");
  Dim B = g.dim("B");
  Tensor start = g.input("start", {B}, DType::I64);
  Tensor emb = g.param("emb", {10, 10}, init::normal(0.1));
  Tensor fin0 = full({B}, 0, DType::I1);
  auto [fin, tok, toks, trips] = while_loop(fin0, {start}, 7, [&](Tensor t) {
    Tensor next = argmax(gather(emb, t, 0), 1);
    Tensor isEos = eq(next, full_like(next, 0));
    return done(isEos).carry(next).emit(next);
  });
  g.outputs({fin, tok, toks, trips});
  auto m = g.build();
  REQUIRE(ir::verify(*m).isOk());
  CHECK(contains(ir::print(*m), "while finished("));
  CHECK(toks.type().str() == "tensor<7 x B x i64>");
  CHECK(trips.type().str() == "tensor<i64>");
}

} // namespace frontend_GraphTest
