// Every op kind of ir/Ops.def is either lowered by the CUDA backend (a small function using it
// compiles to PTX) or listed below with the reason it is not yet; an op in neither fails here, and
// so does a listed op that now compiles (take it off the list). What each op computes is checked
// against the interpreter by the other tests of this directory.
#include "backends/cuda/CudaBackend.h"
#include "ir/OpKind.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <string>

namespace cuda_CudaCoverageTest {

using namespace weft;
using ir::OpKind;

namespace {

/// The ops the backend does not lower yet, and why: none since session 10; an op added to
/// Ops.def without a lowering goes here with its reason.
const std::map<OpKind, std::string> kNotYet = {};

std::string unary(std::string_view op, const char *t) {
  return fmt::format("func @f(%x: tensor<N x {1}>) -> (tensor<N x {1}>) {{\n"
                     "  %y = {0} %x : tensor<N x {1}>\n  return %y\n}}\n",
                     op, t);
}

std::string binary(std::string_view op, const char *in, const char *out) {
  return fmt::format("func @f(%a: tensor<N x {1}>, %b: tensor<N x {1}>) -> (tensor<N x {2}>) {{\n"
                     "  %y = {0} %a, %b : tensor<N x {2}>\n  return %y\n}}\n",
                     op, in, out);
}

/// The body of a function `@f` of one op for kinds the categories do not cover.
const std::map<OpKind, std::string> kSpecial = {
    {OpKind::GruSequenceGrad,
     "(%xs: tensor<1 x 1 x 1 x f32>, %h: tensor<1 x 1 x f32>, %w: tensor<1 x 3 x f32>, "
     "%b: tensor<3 x f32>) -> (tensor<1 x 3 x f32>) {\n"
     "  %dxs, %dh0, %dwx, %dwh, %dbx, %dbh = gru_sequence_grad %xs, %h, %w, %w, %b, %b, %xs, %xs, "
     "%h : tensor<1 x 1 x 1 x f32>, tensor<1 x 1 x f32>, tensor<1 x 3 x f32>, tensor<1 x 3 x f32>, "
     "tensor<3 x f32>, tensor<3 x f32>\n  return %dwh\n}"},
    {OpKind::RnnSequenceGrad,
     "(%xs: tensor<1 x 1 x 1 x f32>, %h: tensor<1 x 1 x f32>, %b: tensor<1 x f32>) -> "
     "(tensor<1 x 1 x f32>) {\n"
     "  %dxs, %dh0, %dwx, %dwh, %db = rnn_sequence_grad %xs, %h, %h, %h, %b, %xs, %xs, %h : "
     "tensor<1 x 1 x 1 x f32>, tensor<1 x 1 x f32>, tensor<1 x 1 x f32>, tensor<1 x 1 x f32>, "
     "tensor<1 x f32>\n  return %dwx\n}"},
    {OpKind::Select, "(%c: tensor<3 x i1>, %a: tensor<3 x f32>) -> (tensor<3 x f32>) {\n"
                     "  %y = select %c, %a, %a : tensor<3 x f32>\n  return %y\n}"},
    {OpKind::Cast, "(%a: tensor<3 x f32>) -> (tensor<3 x i32>) {\n"
                   "  %y = cast %a : tensor<3 x i32>\n  return %y\n}"},
    {OpKind::Broadcast, "(%a: tensor<3 x f32>) -> (tensor<2 x 3 x f32>) {\n"
                        "  %y = broadcast %a {dims = [1]} : tensor<2 x 3 x f32>\n  return %y\n}"},
    {OpKind::Reshape, "(%a: tensor<2 x 3 x f32>) -> (tensor<6 x f32>) {\n"
                      "  %y = reshape %a : tensor<6 x f32>\n  return %y\n}"},
    {OpKind::Transpose,
     "(%a: tensor<2 x 3 x f32>) -> (tensor<3 x 2 x f32>) {\n"
     "  %y = transpose %a {perm = [1, 0]} : tensor<3 x 2 x f32>\n  return %y\n}"},
    {OpKind::Slice, "(%a: tensor<4 x f32>) -> (tensor<2 x f32>) {\n"
                    "  %y = slice %a {axis = 0, start = 1, limit = 3} : tensor<2 x f32>\n"
                    "  return %y\n}"},
    {OpKind::Concat, "(%a: tensor<4 x f32>) -> (tensor<8 x f32>) {\n"
                     "  %y = concat %a, %a {axis = 0} : tensor<8 x f32>\n  return %y\n}"},
    {OpKind::Pad, "(%a: tensor<4 x f32>) -> (tensor<6 x f32>) {\n"
                  "  %y = pad %a {low = [1], high = [1], value = 0.0} : tensor<6 x f32>\n"
                  "  return %y\n}"},
    {OpKind::Gather, "(%a: tensor<4 x f32>, %i: tensor<2 x i64>) -> (tensor<2 x f32>) {\n"
                     "  %y = gather %a, %i {axis = 0} : tensor<2 x f32>\n  return %y\n}"},
    {OpKind::ScatterAdd,
     "(%a: tensor<4 x f32>, %i: tensor<2 x i64>, %u: tensor<2 x f32>) -> (tensor<4 x f32>) {\n"
     "  %y = scatter_add %a, %i, %u {axis = 0} : tensor<4 x f32>\n  return %y\n}"},
    {OpKind::Argmax, "(%a: tensor<2 x 3 x f32>) -> (tensor<2 x i64>) {\n"
                     "  %y = argmax %a {axis = 1} : tensor<2 x i64>\n  return %y\n}"},
    {OpKind::Matmul, "(%a: tensor<2 x 3 x f32>, %b: tensor<3 x 2 x f32>) -> (tensor<2 x 2 x f32>) "
                     "{\n  %y = matmul %a, %b : tensor<2 x 2 x f32>\n  return %y\n}"},
    {OpKind::Constant, "() -> (tensor<2 x f32>) {\n"
                       "  %y = constant {value = [1.0, 2.0]} : tensor<2 x f32>\n  return %y\n}"},
    {OpKind::Iota, "() -> (tensor<2 x 3 x i64>) {\n"
                   "  %y = iota {axis = 1} : tensor<2 x 3 x i64>\n  return %y\n}"},
    {OpKind::Fusion, "(%a: tensor<3 x f32>) -> (tensor<3 x f32>) {\n"
                     "  %y = fusion %a {\n  ^body(%x: tensor<3 x f32>):\n"
                     "    %e = exp %x : tensor<3 x f32>\n    yield %e\n"
                     "  } : tensor<3 x f32>\n  return %y\n}"},
    {OpKind::Attention, "(%q: tensor<5 x 2 x f32>) -> (tensor<5 x 2 x f32>) {\n"
                        "  %o = attention %q, %q, %q {scale = 0.5} : tensor<5 x 2 x f32>\n"
                        "  return %o\n}"},
    {OpKind::AdditiveAttention,
     "(%qp: tensor<2 x 3 x f32>, %kp: tensor<2 x 4 x 3 x f32>, %v: tensor<3 x f32>, "
     "%vals: tensor<2 x 4 x 5 x f32>) -> (tensor<2 x 5 x f32>) {\n"
     "  %c, %w = additive_attention %qp, %kp, %v, %vals : tensor<2 x 5 x f32>, "
     "tensor<2 x 4 x f32>\n  return %c\n}"},
    {OpKind::AllReduce, "(%a: tensor<3 x f32>) -> (tensor<3 x f32>) {\n"
                        "  %y = all_reduce %a {group = 0} : tensor<3 x f32>\n  return %y\n}"},
    {OpKind::AttentionGrad,
     "(%q: tensor<5 x 2 x f32>) -> (tensor<5 x 2 x f32>) {\n"
     "  %dq, %dk, %dv = attention_grad %q, %q, %q, %q, %q {scale = 0.5} : tensor<5 x 2 x f32>, "
     "tensor<5 x 2 x f32>, tensor<5 x 2 x f32>\n  return %dq\n}"},
    {OpKind::RandomUniform, "(%s: tensor<i64>) -> (tensor<5 x f32>) {\n"
                            "  %y = random_uniform %s : tensor<5 x f32>\n  return %y\n}"},
    {OpKind::RandomNormal, "(%s: tensor<i64>) -> (tensor<5 x f32>) {\n"
                           "  %y = random_normal %s : tensor<5 x f32>\n  return %y\n}"},
    {OpKind::Scan, "(%xs: tensor<T x 2 x f32>, %h0: tensor<2 x f32>) -> (tensor<2 x f32>) {\n"
                   "  %hT = scan carry(%h0) over(%xs) {\n"
                   "  ^body(%h: tensor<2 x f32>, %x: tensor<2 x f32>):\n"
                   "    %h2 = add %h, %x : tensor<2 x f32>\n    yield %h2\n"
                   "  } : tensor<2 x f32>\n  return %hT\n}"},
    {OpKind::While,
     "(%f0: tensor<2 x i1>, %n0: tensor<2 x i64>) -> (tensor<2 x i1>, tensor<i64>) {\n"
     "  %fin, %n, %trips = while finished(%f0) carry(%n0) {max_trips = 3} {\n"
     "  ^body(%k: tensor<2 x i64>):\n    %d = eq %k, %k : tensor<2 x i1>\n    yield %d, %k\n"
     "  } : tensor<2 x i1>, tensor<2 x i64>, tensor<i64>\n  return %fin, %trips\n}"},
    {OpKind::LstmSequence,
     "(%xs: tensor<T x 2 x 3 x f32>, %h0: tensor<2 x 4 x f32>, %wx: tensor<3 x 16 x f32>, "
     "%wh: tensor<4 x 16 x f32>, %b: tensor<16 x f32>) -> (tensor<2 x 4 x f32>) {\n"
     "  %hs, %hT, %cT = lstm_sequence %xs, %h0, %h0, %wx, %wh, %b : tensor<T x 2 x 4 x f32>, "
     "tensor<2 x 4 x f32>, tensor<2 x 4 x f32>\n  return %hT\n}"},
    {OpKind::LstmSequenceGrad,
     "(%xs: tensor<T x 2 x 3 x f32>, %h: tensor<2 x 4 x f32>, %wx: tensor<3 x 16 x f32>, "
     "%wh: tensor<4 x 16 x f32>, %b: tensor<16 x f32>, %hs: tensor<T x 2 x 4 x f32>) -> "
     "(tensor<T x 2 x 3 x f32>) {\n"
     "  %dxs, %dh0, %dc0, %dwx, %dwh, %db = lstm_sequence_grad %xs, %h, %h, %wx, %wh, %b, %hs, "
     "%hs, %h, %h : tensor<T x 2 x 3 x f32>, tensor<2 x 4 x f32>, tensor<2 x 4 x f32>, "
     "tensor<3 x 16 x f32>, tensor<4 x 16 x f32>, tensor<16 x f32>\n  return %dxs\n}"},
    {OpKind::GruSequence,
     "(%xs: tensor<T x 2 x 3 x f32>, %h0: tensor<2 x 4 x f32>, %wx: tensor<3 x 12 x f32>, "
     "%wh: tensor<4 x 12 x f32>, %b: tensor<12 x f32>) -> (tensor<2 x 4 x f32>) {\n"
     "  %hs, %hT = gru_sequence %xs, %h0, %wx, %wh, %b, %b : tensor<T x 2 x 4 x f32>, "
     "tensor<2 x 4 x f32>\n  return %hT\n}"},
    {OpKind::LstmAttentionStep,
     "(%x: tensor<2 x 3 x f32>, %h: tensor<2 x 4 x f32>, %wx: tensor<3 x 16 x f32>, "
     "%wh: tensor<4 x 16 x f32>, %b: tensor<16 x f32>, %kp: tensor<2 x 5 x 4 x f32>, "
     "%g: tensor<f32>, %vals: tensor<2 x 5 x 6 x f32>, %wa: tensor<10 x 7 x f32>) -> "
     "(tensor<2 x 7 x f32>) {\n"
     "  %h2, %c2, %att, %w = lstm_attention_step %x, %h, %h, %wx, %wh, %b, %kp, %g, %vals, %wa "
     "{luong = 1} : tensor<2 x 4 x f32>, tensor<2 x 4 x f32>, tensor<2 x 7 x f32>, "
     "tensor<2 x 5 x f32>\n  return %att\n}"},
    {OpKind::RnnSequence,
     "(%xs: tensor<T x 2 x 3 x f32>, %h0: tensor<2 x 4 x f32>, %wx: tensor<3 x 4 x f32>, "
     "%wh: tensor<4 x 4 x f32>, %b: tensor<4 x f32>) -> (tensor<2 x 4 x f32>) {\n"
     "  %hs, %hT = rnn_sequence %xs, %h0, %wx, %wh, %b : tensor<T x 2 x 4 x f32>, "
     "tensor<2 x 4 x f32>\n  return %hT\n}"},
};

/// A function of one op of kind `k`, or "" when the test has none.
std::string functionOf(OpKind k) {
  std::string_view name = ir::opName(k);
  switch (ir::opCategory(k)) {
  case ir::OpCategory::Unary:
    return unary(name, k == OpKind::Not ? "i1" : "f32");
  case ir::OpCategory::Binary:
    return binary(name, "f32", "f32");
  case ir::OpCategory::Compare:
    return binary(name, "f32", "i1");
  case ir::OpCategory::Logical:
    return binary(name, "i1", "i1");
  case ir::OpCategory::Reduce:
    return fmt::format("func @f(%a: tensor<2 x 3 x f32>) -> (tensor<2 x f32>) {{\n"
                       "  %y = {} %a {{axes = [1]}} : tensor<2 x f32>\n  return %y\n}}\n",
                       name);
  default:
    break;
  }
  // Terminators come with every function (return) and loop body (yield).
  if (k == OpKind::Return || k == OpKind::Yield)
    return std::string("func @f") + kSpecial.at(OpKind::Scan) + "\n";
  auto special = kSpecial.find(k);
  return special == kSpecial.end() ? "" : "func @f" + special->second + "\n";
}

} // namespace

TEST_CASE("cuda: every op kind is lowered to PTX or listed with the reason it is not yet") {
  for (OpKind k : ir::allOpKinds()) {
    CAPTURE(ir::opName(k));
    std::string text = functionOf(k);
    auto reason = kNotYet.find(k);
    if (reason == kNotYet.end()) {
      INFO("no function in CudaCoverageTest.cpp uses it, and kNotYet gives no reason");
      REQUIRE(!text.empty());
    }
    if (text.empty())
      continue; // not yet, and said why
    auto m = ir::parseModule(text, "op.wir");
    REQUIRE_OK(m);
    auto ptx = cuda::modulePtx(**m, "sm_90");
    if (reason == kNotYet.end()) {
      REQUIRE_OK(ptx);
    } else {
      INFO("it compiles now: take it off kNotYet");
      REQUIRE_FALSE(ptx);
      CHECK(ptx.diag().message.find(fmt::format("'{}'", ir::opName(k))) != std::string::npos);
      CHECK(ptx.diag().loc.line > 1); // the op's own line, after the function's
    }
  }
}

} // namespace cuda_CudaCoverageTest
