// autodiff refuses what it cannot differentiate, and says why.
#include "ir/Parser.h"
#include "passes/autodiff/Autodiff.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace autodiff_GradientErrorTest {

namespace {

std::string gradError(const char *ir, std::vector<std::string> wrt = {}) {
  weft::autodiff::GradOptions options;
  options.wrt = std::move(wrt);
  auto m = weft::ir::parseModule(ir, "err.wir");
  REQUIRE_OK(m);
  auto g = weft::autodiff::buildGradient(**m, *(*m)->functions().front(), options);
  return g.isOk() ? "ok" : g.diag().message;
}

const char *kSquare = R"(func @sq(%x: tensor<3 x f64>, %n: tensor<3 x i64>) -> (tensor<3 x f64>) {
  %y = mul %x, %x : tensor<3 x f64>
  return %y
}
)";

} // namespace

TEST_CASE("the loss must be a float scalar") {
  CHECK(gradError(kSquare) == "autodiff: the loss (result 0 of @sq) must be a float scalar, got "
                              "tensor<3 x f64>; reduce it first (e.g. reduce_mean)");
}

TEST_CASE("unknown and integer parameters are refused by name") {
  const char *ir = R"(func @f(%x: tensor<3 x f64>, %n: tensor<3 x i64>) -> (tensor<f64>) {
  %l = reduce_sum %x {axes = [0]} : tensor<f64>
  return %l
}
)";
  CHECK(gradError(ir, {"y"}) == "autodiff: @f has no parameter %y");
  CHECK(gradError(ir, {"n"}) ==
        "autodiff: parameter %n has dtype i64; only float parameters have gradients");
  CHECK(gradError(ir, {"x"}) == "ok");
}

TEST_CASE("a while loop on the path to the loss is refused with what to use instead") {
  const char *ir = R"(func @dec(%f0: tensor<2 x i1>, %x: tensor<2 x f64>) -> (tensor<f64>) {
  %fin, %y, %ys, %n = while finished(%f0) carry(%x) {max_trips = 5} {
  ^body(%v: tensor<2 x f64>):
    %v2 = tanh %v : tensor<2 x f64>
    %done = gt %v2, %v : tensor<2 x i1>
    yield %done, %v2, %v2
  } : tensor<2 x i1>, tensor<2 x f64>, tensor<5 x 2 x f64>, tensor<i64>
  %l = reduce_sum %y {axes = [0]} : tensor<f64>
  return %l
}
)";
  std::string msg = gradError(ir, {"x"});
  CHECK(msg.find("cannot differentiate through 'while'") != std::string::npos);
  CHECK(msg.find("scan over a maximum length") != std::string::npos);
}

TEST_CASE("a fused kernel on the path to the loss is refused: autodiff runs before fusion") {
  const char *ir = R"(func @f(%x: tensor<2 x f64>) -> (tensor<f64>) {
  %l = fusion %x {
  ^body(%a: tensor<2 x f64>):
    %t = tanh %a : tensor<2 x f64>
    %s = reduce_sum %t {axes = [0]} : tensor<f64>
    yield %s
  } : tensor<f64>
  return %l
}
)";
  CHECK(gradError(ir, {"x"}) == "autodiff: cannot differentiate a fused kernel; run autodiff "
                                "before fuse-elementwise (as the train pipeline does)");
}

TEST_CASE("attention_grad is refused: no second derivatives of attention") {
  const char *grad = R"(func @f(%q: tensor<2 x 3 x f64>) -> (tensor<f64>) {
  %g, %gk, %gv = attention_grad %q, %q, %q, %q, %q {scale = 1.0} : tensor<2 x 3 x f64>, tensor<2 x 3 x f64>, tensor<2 x 3 x f64>
  %l = reduce_sum %g {axes = [0, 1]} : tensor<f64>
  return %l
}
)";
  CHECK(gradError(grad, {"q"}).starts_with("autodiff: cannot differentiate attention_grad"));
}

TEST_CASE("lstm_sequence_grad is refused: no second derivatives of lstm_sequence") {
  const char *grad =
      R"(func @f(%xs: tensor<1 x 1 x 1 x f64>, %h: tensor<1 x 1 x f64>, %w: tensor<1 x 4 x f64>, %b: tensor<4 x f64>) -> (tensor<f64>) {
  %dxs, %dh0, %dc0, %dwx, %dwh, %db = lstm_sequence_grad %xs, %h, %h, %w, %w, %b, %xs, %xs, %h, %h : tensor<1 x 1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 4 x f64>, tensor<1 x 4 x f64>, tensor<4 x f64>
  %l = reduce_sum %dwx {axes = [0, 1]} : tensor<f64>
  return %l
}
)";
  CHECK(gradError(grad, {"w"}).starts_with("autodiff: cannot differentiate lstm_sequence_grad"));
}

TEST_CASE("gru_sequence_grad and rnn_sequence_grad are refused: no second derivatives") {
  const char *gru =
      R"(func @f(%xs: tensor<1 x 1 x 1 x f64>, %h: tensor<1 x 1 x f64>, %w: tensor<1 x 3 x f64>, %b: tensor<3 x f64>) -> (tensor<f64>) {
  %dxs, %dh0, %dwx, %dwh, %dbx, %dbh = gru_sequence_grad %xs, %h, %w, %w, %b, %b, %xs, %xs, %h : tensor<1 x 1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 3 x f64>, tensor<1 x 3 x f64>, tensor<3 x f64>, tensor<3 x f64>
  %l = reduce_sum %dwx {axes = [0, 1]} : tensor<f64>
  return %l
}
)";
  CHECK(gradError(gru, {"w"}).starts_with("autodiff: cannot differentiate gru_sequence_grad"));
  const char *rnn =
      R"(func @f(%xs: tensor<1 x 1 x 1 x f64>, %h: tensor<1 x 1 x f64>, %b: tensor<1 x f64>) -> (tensor<f64>) {
  %dxs, %dh0, %dwx, %dwh, %db = rnn_sequence_grad %xs, %h, %h, %h, %b, %xs, %xs, %h : tensor<1 x 1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x f64>
  %l = reduce_sum %dwx {axes = [0, 1]} : tensor<f64>
  return %l
}
)";
  CHECK(gradError(rnn, {"h"}).starts_with("autodiff: cannot differentiate rnn_sequence_grad"));
}

TEST_CASE("lstm_attention_step is refused: it is made for inference only") {
  const char *ir =
      R"(func @f(%x: tensor<1 x 1 x f64>, %w4: tensor<1 x 4 x f64>, %b: tensor<4 x f64>, %w: tensor<1 x 1 x f64>, %k: tensor<1 x 1 x 1 x f64>, %v: tensor<1 x f64>, %wa: tensor<2 x 1 x f64>) -> (tensor<f64>) {
  %h2, %c2, %a, %p = lstm_attention_step %x, %x, %x, %w4, %w4, %b, %w, %k, %v, %k, %wa : tensor<1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 1 x f64>
  %l = reduce_sum %a {axes = [0, 1]} : tensor<f64>
  return %l
}
)";
  CHECK(gradError(ir, {"x"}) ==
        "autodiff: cannot differentiate lstm_attention_step, an inference-only fusion; run "
        "autodiff before fuse-lstm-attention (as the train pipeline does)");
}

} // namespace autodiff_GradientErrorTest
