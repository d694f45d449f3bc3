//===- tests/unit/reference/ErrorsTest.cpp - bad inputs and run-time faults ===//
#include "Helpers.h"
#include "eval/Evaluate.h"
#include "ir/Builder.h"

#include <doctest/doctest.h>

namespace weft::test::reference_ErrorsTest {
namespace {

const char *kMatmul = R"(
func @f(%x: tensor<B x 4 x f32>, %W: tensor<4 x 8 x f32>) -> (tensor<B x 8 x f32>) {
  %y = matmul %x, %W : tensor<B x 8 x f32>
  return %y
}
)";

std::string message(const Expected<std::vector<Array>> &r) {
  return r.isOk() ? "<ok>" : r.diag().message;
}

} // namespace

TEST_CASE("a wrong number of inputs is an error") {
  auto r = runText(kMatmul, {f32({2, 4}, std::vector<float>(8))});
  CHECK(message(r) == "function @f expected 2 inputs, got 1");
}

TEST_CASE("a wrong input shape names both shapes") {
  auto r =
      runText(kMatmul, {f32({2, 4}, std::vector<float>(8)), f32({3, 4}, std::vector<float>(12))});
  CHECK(message(r) == "input 1 (%W) has shape [3, 4] but the function expects [4, 8]");
}

TEST_CASE("a wrong input dtype is an error") {
  auto r =
      runText(kMatmul, {f64({2, 4}, std::vector<double>(8)), f32({4, 8}, std::vector<float>(32))});
  CHECK(message(r) == "input 0 (%x) has dtype f64 but the function expects f32");
}

TEST_CASE("a symbol bound to two sizes is an error naming both inputs") {
  auto r = runText(R"(
func @f(%xs: tensor<T x f32>, %ys: tensor<T x f32>) -> (tensor<T x f32>) {
  %z = add %xs, %ys : tensor<T x f32>
  return %z
}
)",
                   {f32({5}, std::vector<float>(5)), f32({7}, std::vector<float>(7))});
  CHECK(message(r) == "input 1 (%ys): axis 0 binds T = 7, but input 0 (%xs) bound it to 5");
}

TEST_CASE("an unbound symbol is an error naming it") {
  const char *ir = R"(
func @f() -> (tensor<B x f32>) {
  %c = constant {value = [1.0]} : tensor<B x f32>
  return %c
}
)";
  CHECK(message(runText(ir, {})) == "constant: symbolic dim 'B' is not bound");
  auto ok = runText(ir, {}, {{"B", 3}});
  REQUIRE(ok.isOk());
  CHECK((*ok)[0].typeStr() == "f32[3]");
}

TEST_CASE("a gather index out of range names the index and the range") {
  auto r = runText(R"(
func @f(%t: tensor<5 x 2 x f32>, %i: tensor<3 x i32>) -> (tensor<3 x 2 x f32>) {
  %g = gather %t, %i {axis = 0} : tensor<3 x 2 x f32>
  return %g
}
)",
                   {f32({5, 2}, std::vector<float>(10)), i32({3}, {0, 7, 1})});
  CHECK(message(r) ==
        "gather: index 7 at position [1] of the indices is out of range [0, 5) for axis 0 of "
        "f32[5, 2]");
}

TEST_CASE("a scatter_add index out of range is an error") {
  auto r = runText(R"(
func @f(%b: tensor<2 x f32>, %i: tensor<1 x i64>, %u: tensor<1 x f32>) -> (tensor<2 x f32>) {
  %s = scatter_add %b, %i, %u {axis = 0} : tensor<2 x f32>
  return %s
}
)",
                   {f32({2}, {0, 0}), i64({1}, {-1}), f32({1}, {1})});
  CHECK(message(r) == "scatter_add: index -1 at position [0] of the indices is out of range "
                      "[0, 2) for axis 0 of f32[2]");
}

TEST_CASE("integer division by zero is an error") {
  auto r = runText(R"(
func @f(%a: tensor<3 x i64>, %b: tensor<3 x i64>) -> (tensor<3 x i64>) {
  %d = div %a, %b : tensor<3 x i64>
  return %d
}
)",
                   {i64({3}, {1, 2, 3}), i64({3}, {1, 0, 1})});
  CHECK(message(r) == "div: integer division by zero at element 1 of i64[3]");
}

TEST_CASE("evaluateOp checks operands against the op") {
  ir::Module m;
  ir::Function &f = m.addFunction("f");
  ir::Value *a = f.addParam(ir::Type({2}, DType::F32), "a");
  ir::OpBuilder b(f.body());
  ir::Op *add = *b.create(ir::OpKind::Add, {a, a});
  std::vector<Array> good{f32({2}, {1, 2}), f32({2}, {3, 4})};
  auto r = eval::evaluateOp(*add, good);
  REQUIRE(r.isOk());
  CHECK((*r)[0].getDouble(1) == 6);
  std::vector<Array> bad{f32({2}, {1, 2}), f32({3}, {3, 4, 5})};
  auto e = eval::evaluateOp(*add, bad);
  REQUIRE_FALSE(e.isOk());
  CHECK(e.diag().message == "add: operands differ: f32[2] vs f32[3]");
  std::vector<Array> few{f32({2}, {1, 2})};
  CHECK_FALSE(eval::evaluateOp(*add, few).isOk());
}

} // namespace weft::test::reference_ErrorsTest
