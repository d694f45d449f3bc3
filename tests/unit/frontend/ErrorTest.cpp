#include "frontend/Weft.h"
#include "ir/Verifier.h"

#include <doctest/doctest.h>

#include <functional>
#include <string>

namespace frontend_ErrorTest {

using namespace weft;

namespace {

/// The message of the weft::Error that `fn` throws, or "" if it does not throw.
std::string errorOf(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

/// "ErrorTest.cpp:<line>: " must appear at the start (after the directory).
void checkLocated(const std::string &msg, int line) {
  CAPTURE(msg);
  std::string where = "ErrorTest.cpp:" + std::to_string(line) + ": ";
  size_t at = msg.find(where);
  CHECK(at != std::string::npos);
  CHECK(msg.find(": ") == at + where.size() - 2); // nothing located before it
}

} // namespace

TEST_CASE("a matmul shape error names this file, the line and both shapes") {
  Graph g("bad");
  Dim B = g.dim("B");
  Tensor x = g.input("x", {B, 784});
  Tensor w = g.input("w", {256, 10});
  int line = 0;
  std::string msg = errorOf([&] {
    line = __LINE__ + 1;
    matmul(x, w);
  });
  checkLocated(msg, line);
  CHECK(msg.find("matmul: inner dims differ: 784 vs 256 ([B, 784] vs [256, 10])") !=
        std::string::npos);
}

TEST_CASE("an operator's broadcast error is located at the operator's line") {
  Graph g("bad");
  Tensor a = g.input("a", {2, 3});
  Tensor b = g.input("b", {4});
  int line = 0;
  std::string msg = errorOf([&] {
    line = __LINE__ + 1;
    (void)(a + b);
  });
  checkLocated(msg, line);
  CHECK(msg.find("[2, 3]") != std::string::npos);
  CHECK(msg.find("[4]") != std::string::npos);
  CHECK(msg.find("add") != std::string::npos);
}

TEST_CASE("dtype mismatches are located errors, not promotions") {
  Graph g("bad");
  Tensor a = g.input("a", {2});
  Tensor i = g.input("i", {2}, DType::I32);
  int line = __LINE__ + 1;
  std::string msg = errorOf([&] { a *i; });
  checkLocated(msg, line);
  CHECK(msg.find("dtypes differ: f32 vs i32") != std::string::npos);
}

TEST_CASE("using a tensor from another graph is a located error") {
  Graph g1("one"), g2("two");
  Tensor a = g1.input("a", {2});
  Tensor b = g2.input("b", {2});
  int line = __LINE__ + 1;
  std::string msg = errorOf([&] { exp(a) + b; });
  checkLocated(msg, line);
  CHECK(msg.find("belongs to graph 'two', not 'one'") != std::string::npos);
}

TEST_CASE("using a tensor from a finished scan body is a located error") {
  Graph g("leak");
  Tensor xs = g.input("xs", {4, 2});
  Tensor leaked;
  auto [s, ys] = scan(xs, {zeros({2})}, [&](Tensor x, Tensor acc) {
    leaked = x * 2.0;
    return carry(acc + x).emit(leaked);
  });
  int line = __LINE__ + 1;
  std::string msg = errorOf([&] { g.output(leaked + s); });
  checkLocated(msg, line);
  CHECK(msg.find("scan or while body that has finished") != std::string::npos);
  g.outputs({s, ys});
  CHECK(ir::verify(*g.build()).isOk());
}

TEST_CASE("a failing scan body leaves a graph that still builds") {
  Graph g("recover");
  Tensor xs = g.input("xs", {4, 2});
  Tensor w = g.input("w", {3, 3});
  Tensor inside;
  int line = 0;
  std::string msg = errorOf([&] {
    scan(xs, {zeros({2})}, [&](Tensor x, Tensor acc) {
      inside = x + acc;
      line = __LINE__ + 1;
      return carry(matmul(inside, w));
    });
  });
  checkLocated(msg, line);
  CHECK(errorOf([&] { exp(inside); }).find("has finished") != std::string::npos);
  g.output(exp(xs));
  CHECK(ir::verify(*g.build()).isOk());
}

TEST_CASE("a scan whose carry changes type is an error at the scan") {
  Graph g("carry");
  Tensor xs = g.input("xs", {4, 2});
  int line = __LINE__ + 2;
  std::string msg = errorOf(
      [&] { scan(xs, {zeros({2})}, [&](Tensor x, Tensor acc) { return carry(sum(x, {0})); }); });
  checkLocated(msg, line);
  CHECK(msg.find("carry 0 enters as tensor<2 x f32>") != std::string::npos);
}

TEST_CASE("a scan body with the wrong number of parameters is a located error") {
  Graph g("arity");
  Tensor xs = g.input("xs", {4, 2});
  int line = __LINE__ + 2;
  std::string msg = errorOf(
      [&] { scan(xs, {zeros({2}), zeros({2})}, [&](Tensor x, Tensor a) { return carry(a); }); });
  checkLocated(msg, line);
  CHECK(msg.find("2 initial carries") != std::string::npos);
}

TEST_CASE("slicing and reshaping errors name the shapes") {
  Graph g("shape");
  Dim B = g.dim("B");
  Tensor x = g.input("x", {B, 6});
  CHECK(errorOf([&] { split<4>(x, 1); }).find("[B, 6]") != std::string::npos);
  CHECK(errorOf([&] { reshape(x, {B, 5}); }).find("cannot reshape [B, 6]") != std::string::npos);
  CHECK(errorOf([&] { sum(x, {2}); }).find("axis 2 is out of range for shape [B, 6]") !=
        std::string::npos);
}

TEST_CASE("an input declared twice is a located error naming it") {
  Graph g("twice");
  g.input("x", {4});
  g.param("w", {4}, init::zeros());
  int line = __LINE__ + 1;
  std::string msg = errorOf([&] { g.input("x", {4}); });
  checkLocated(msg, line);
  CHECK(msg.find("input 'x' is declared twice in graph 'twice' (first as an input)") !=
        std::string::npos);
  line = __LINE__ + 1;
  msg = errorOf([&] { g.input("w", {4}); });
  checkLocated(msg, line);
  CHECK(msg.find("input 'w' is declared twice in graph 'twice' (first as a parameter)") !=
        std::string::npos);
  msg = errorOf([&] { g.param("x", {4}, init::zeros()); });
  CHECK(msg.find("parameter 'x' is declared twice in graph 'twice' (first as an input)") !=
        std::string::npos);
}

} // namespace frontend_ErrorTest
