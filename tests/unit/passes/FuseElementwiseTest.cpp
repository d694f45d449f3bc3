// fuse-elementwise: the reference interpreter computes the same bits before and after the
// pass on seeded random inputs, the result verifies, and a second run changes nothing.
#include "PassTestUtil.h"
#include "backends/reference/Interpreter.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"
#include "tests/unit/LstmIr.h"
#include "tests/unit/RequireOk.h"

#include <cstring>
#include <random>
#include <sstream>
#include <string>

namespace passes_FuseElementwiseTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

/// One LSTM step over B x 4 (input 3), as @lstm and @lstm_loss use.
const std::string kLstmStep =
    testing::lstmStep({.input = 3, .hidden = 4, .gates = testing::LstmGates::Separate});

/// Graphs to fuse, each with the number of fusions the pass must make.
const std::string kGraphs = R"(
func @bias_tanh_exp(%x: tensor<B x 8 x f32>, %bias: tensor<8 x f32>) -> (tensor<B x 8 x f32>) {
  %t = tanh %x : tensor<B x 8 x f32>
  %bb = broadcast %bias {dims = [1]} : tensor<B x 8 x f32>
  %s = add %t, %bb : tensor<B x 8 x f32>
  %e = exp %s : tensor<B x 8 x f32>
  return %e
}

func @softmax(%x: tensor<B x 8 x f32>) -> (tensor<B x 8 x f32>, tensor<B x f32>) {
  %m = reduce_max %x {axes = [1]} : tensor<B x f32>
  %mb = broadcast %m {dims = [0]} : tensor<B x 8 x f32>
  %d = sub %x, %mb : tensor<B x 8 x f32>
  %e = exp %d : tensor<B x 8 x f32>
  %s = reduce_sum %e {axes = [1]} : tensor<B x f32>
  %sb = broadcast %s {dims = [0]} : tensor<B x 8 x f32>
  %y = div %e, %sb : tensor<B x 8 x f32>
  %half = constant {value = [0.5]} : tensor<B x 8 x f32>
  %h = mul %y, %half : tensor<B x 8 x f32>
  %l = log %h : tensor<B x 8 x f32>
  %n = reduce_mean %l {axes = [1]} : tensor<B x f32>
  return %y, %n
}

func @second_result(%x: tensor<4 x 4 x f32>) -> (tensor<4 x 4 x f32>) {
  %t = tanh %x : tensor<4 x 4 x f32>
  %e = exp %t : tensor<4 x 4 x f32>
  %m = matmul %e, %t : tensor<4 x 4 x f32>
  %s = sigmoid %t : tensor<4 x 4 x f32>
  %r = add %s, %m : tensor<4 x 4 x f32>
  %q = mul %r, %r : tensor<4 x 4 x f32>
  return %q
}

func @int_select(%a: tensor<B x 8 x i32>, %b: tensor<B x 8 x i32>, %k: tensor<8 x i32>) -> (tensor<B x 8 x i32>, tensor<B x 8 x i1>) {
  %z = constant {value = [0]} : tensor<B x 8 x i32>
  %lt = lt %a, %z : tensor<B x 8 x i1>
  %n = neg %a : tensor<B x 8 x i32>
  %abs = select %lt, %n, %a : tensor<B x 8 x i32>
  %kb = broadcast %k {dims = [1]} : tensor<B x 8 x i32>
  %s = add %abs, %kb : tensor<B x 8 x i32>
  %big = gt %s, %b : tensor<B x 8 x i1>
  %both = and %big, %lt : tensor<B x 8 x i1>
  %r = max %s, %b : tensor<B x 8 x i32>
  return %r, %both
}

func @mlp(%x: tensor<B x 6 x f32>, %w1: tensor<6 x 8 x f32>, %b1: tensor<8 x f32>, %w2: tensor<8 x 3 x f32>, %b2: tensor<3 x f32>) -> (tensor<B x 3 x f32>, tensor<f32>) {
  %m1 = matmul %x, %w1 : tensor<B x 8 x f32>
  %bb1 = broadcast %b1 {dims = [1]} : tensor<B x 8 x f32>
  %a1 = add %m1, %bb1 : tensor<B x 8 x f32>
  %h1 = relu %a1 : tensor<B x 8 x f32>
  %m2 = matmul %h1, %w2 : tensor<B x 3 x f32>
  %bb2 = broadcast %b2 {dims = [1]} : tensor<B x 3 x f32>
  %a2 = add %m2, %bb2 : tensor<B x 3 x f32>
  %y = tanh %a2 : tensor<B x 3 x f32>
  %sq = mul %y, %y : tensor<B x 3 x f32>
  %loss = reduce_sum %sq {axes = [0, 1]} : tensor<f32>
  return %y, %loss
}

func @lstm(%xs: tensor<T x B x 3 x f32>, %h0: tensor<B x 4 x f32>, %c0: tensor<B x 4 x f32>, %W: tensor<3 x 16 x f32>, %U: tensor<4 x 16 x f32>, %bias: tensor<16 x f32>) -> (tensor<B x 4 x f32>, tensor<B x 4 x f32>, tensor<T x B x 4 x f32>) {
  %hT, %cT, %hs = scan carry(%h0, %c0) over(%xs) {
  ^body(%h: tensor<B x 4 x f32>, %c: tensor<B x 4 x f32>, %x: tensor<B x 3 x f32>):
)" + kLstmStep +
                            R"(    yield %h2, %c2, %h2
  } : tensor<B x 4 x f32>, tensor<B x 4 x f32>, tensor<T x B x 4 x f32>
  %hsq = mul %hT, %hT : tensor<B x 4 x f32>
  %out = add %hsq, %cT : tensor<B x 4 x f32>
  return %out, %cT, %hs
}
)";

struct Expect {
  const char *function;
  size_t fusions;
};
const Expect kExpected[] = {{"bias_tanh_exp", 1}, {"softmax", 2}, {"second_result", 2},
                            {"int_select", 1},    {"mlp", 2},     {"lstm", 3}};

const DimBindings kDims = {{"B", 3}, {"T", 5}};

std::unique_ptr<Module> parse(const char *text) {
  auto m = parseModule(text, "fuse.wir");
  REQUIRE_OK(m);
  return std::move(*m);
}

/// Same results before and after, bit for bit; integer inputs in [-5, 5].
void checkSameResults(const Function &before, const Function &after) {
  test::checkSameResults(before, after, kDims, {-5, 5});
}

} // namespace

TEST_CASE("fuse-elementwise keeps every result bit for bit on the reference interpreter") {
  auto before = parse(kGraphs.c_str());
  auto after = parse(kGraphs.c_str());
  auto fuse = createFuseElementwisePass();
  CHECK(runPass(*fuse, *after));
  for (const Expect &e : kExpected) {
    CAPTURE(e.function);
    Function *f0 = before->function(e.function);
    Function *f1 = after->function(e.function);
    REQUIRE(f0);
    REQUIRE(f1);
    CHECK(countOps(*f1, OpKind::Fusion) == e.fusions);
    checkSameResults(*f0, *f1);
  }
}

TEST_CASE("fuse-elementwise keeps an LSTM's training gradients bit for bit") {
  // An LSTM with a scalar loss; the train pipeline without its fusion adds @lstm_loss_grad,
  // whose backward scan is long elementwise code.
  const std::string text = R"(
func @lstm_loss(%xs: tensor<T x B x 3 x f32>, %h0: tensor<B x 4 x f32>, %c0: tensor<B x 4 x f32>, %W: tensor<3 x 16 x f32>, %U: tensor<4 x 16 x f32>, %bias: tensor<16 x f32>) -> (tensor<f32>) {
  %hT, %cT = scan carry(%h0, %c0) over(%xs) {
  ^body(%h: tensor<B x 4 x f32>, %c: tensor<B x 4 x f32>, %x: tensor<B x 3 x f32>):
)" + kLstmStep +
                           R"(    yield %h2, %c2
  } : tensor<B x 4 x f32>, tensor<B x 4 x f32>
  %sq = mul %hT, %hT : tensor<B x 4 x f32>
  %loss = reduce_sum %sq {axes = [0, 1]} : tensor<f32>
  return %loss
}
)";
  auto before = parse(text.c_str());
  std::ostringstream log;
  PassManager pm(log);
  REQUIRE(pm.addPipeline("canonicalize,autodiff,hoist-weight-gradients,licm,canonicalize").isOk());
  Status trained = pm.run(*before);
  REQUIRE_MESSAGE(trained.isOk(), trained.message());
  auto after = parse(print(*before).c_str());
  auto fuse = createFuseElementwisePass();
  CHECK(runPass(*fuse, *after));
  Function *grad = after->function("lstm_loss_grad");
  REQUIRE(grad);
  CHECK(countOps(*grad, OpKind::Fusion) >= 4);
  checkSameResults(*before->function("lstm_loss_grad"), *grad);
}

TEST_CASE("fuse-elementwise changes nothing the second time") {
  auto m = parse(kGraphs.c_str());
  auto fuse = createFuseElementwisePass();
  REQUIRE(runPass(*fuse, *m));
  std::string once = print(*m);
  CHECK_FALSE(runPass(*fuse, *m));
  CHECK(print(*m) == once);
}

TEST_CASE("fuse-elementwise leaves a lone op and a graph without elementwise chains alone") {
  auto m = parse(R"(
func @f(%x: tensor<4 x 4 x f32>, %w: tensor<4 x 4 x f32>) -> (tensor<4 x 4 x f32>, tensor<4 x f32>) {
  %two = constant {value = [2.0]} : tensor<4 x 4 x f32>
  %y = mul %x, %two : tensor<4 x 4 x f32>
  %m = matmul %y, %w : tensor<4 x 4 x f32>
  %t = transpose %m {perm = [1, 0]} : tensor<4 x 4 x f32>
  %s = reduce_sum %t {axes = [1]} : tensor<4 x f32>
  return %m, %s
}
)");
  std::string original = print(*m);
  auto fuse = createFuseElementwisePass();
  CHECK_FALSE(runPass(*fuse, *m));
  CHECK(print(*m) == original);
}

} // namespace passes_FuseElementwiseTest
