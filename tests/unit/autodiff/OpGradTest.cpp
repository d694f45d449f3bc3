// Finite-difference checks of every op's VJP, in f64, on the reference interpreter.
#include "GradCheck.h"
#include "backends/reference/Interpreter.h"
#include "ir/OpKind.h"
#include "ir/Parser.h"
#include "passes/autodiff/Autodiff.h"
#include "tests/unit/UnaryOpTests.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <limits>
#include <set>

namespace autodiff_OpGradTest {

using weft::Array;
using weft::ir::OpKind;
using weft::testing::checkGradients;
using weft::testing::GradCase;

namespace {

/// A finite-difference check of one op kind's VJP.
struct OpGradCase {
  OpKind kind;
  GradCase grad;
};

/// A function of `params` whose `body` computes %y : yType; the loss is sum(y * r).
std::string withLoss(const std::string &params, const std::string &body, const std::string &yType,
                     int yRank) {
  std::string axes;
  for (int i = 0; i < yRank; ++i)
    axes += (i ? ", " : "") + std::to_string(i);
  return fmt::format("func @f({}, %r: {}) -> (tensor<f64>) {{\n{}"
                     "  %z = mul %y, %r : {}\n"
                     "  %l = reduce_sum %z {{axes = [{}]}} : tensor<f64>\n"
                     "  return %l\n}}\n",
                     params, yType, body, yType, axes);
}

const char *kT23 = "tensor<2 x 3 x f64>";

OpGradCase unary(OpKind k, double lo, double hi) {
  std::string op(weft::ir::opName(k));
  return {
      k,
      {withLoss(fmt::format("%x: {}", kT23), fmt::format("  %y = {} %x : {}\n", op, kT23), kT23, 2),
       {"x"},
       lo,
       hi}};
}

OpGradCase binary(OpKind k, double lo, double hi) {
  std::string op(weft::ir::opName(k));
  return {k,
          {withLoss(fmt::format("%a: {0}, %b: {0}", kT23),
                    fmt::format("  %y = {} %a, %b : {}\n", op, kT23), kT23, 2),
           {"a", "b"},
           lo,
           hi}};
}

/// A one-op case: `body` computes %y from %x of type xType.
OpGradCase shaped(OpKind k, const std::string &xType, const std::string &body,
                  const std::string &yType, int yRank, std::map<std::string, Array> fixed = {},
                  std::string extraParams = "") {
  return {k,
          {withLoss("%x: " + xType + extraParams, body, yType, yRank),
           {"x"},
           -1.0,
           1.0,
           std::move(fixed)}};
}

// The cases of each test case below, built without running them, so that the coverage test
// reads the kinds from the same lists whichever test cases run, and in whatever order.

std::vector<OpGradCase> unaryCases() {
  std::vector<OpGradCase> cs;
  for (OpKind k : {OpKind::Neg, OpKind::Abs, OpKind::Relu, OpKind::Sign})
    cs.push_back(unary(k, -1.0, 1.0));
  for (const weft::test::UnaryOpTest &u : weft::test::unaryOpTests())
    cs.push_back(unary(u.kind, u.lo, u.hi));
  return cs;
}

std::vector<OpGradCase> binaryCases() {
  std::vector<OpGradCase> cs;
  for (OpKind k : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Max, OpKind::Min})
    cs.push_back(binary(k, -1.0, 1.0));
  for (OpKind k : {OpKind::Div, OpKind::Pow})
    cs.push_back(binary(k, 0.5, 1.5));
  return cs;
}

std::vector<OpGradCase> selectCases() {
  return {{OpKind::Select,
           {withLoss(fmt::format("%c: tensor<2 x 3 x i1>, %a: {0}, %b: {0}", kT23),
                     fmt::format("  %y = select %c, %a, %b : {}\n", kT23), kT23, 2),
            {"a", "b"},
            -1.0,
            1.0,
            {{"c", Array::of<bool>({2, 3}, {true, false, true, false, false, true})}}}}};
}

std::vector<OpGradCase> shapeCases() {
  return {shaped(OpKind::Broadcast, "tensor<2 x 1 x f64>",
                 "  %y = broadcast %x {dims = [0, 2]} : tensor<2 x 4 x 3 x f64>\n",
                 "tensor<2 x 4 x 3 x f64>", 3),
          shaped(OpKind::Reshape, kT23, "  %y = reshape %x : tensor<3 x 2 x f64>\n",
                 "tensor<3 x 2 x f64>", 2),
          shaped(OpKind::Transpose, "tensor<2 x 3 x 4 x f64>",
                 "  %y = transpose %x {perm = [2, 0, 1]} : tensor<4 x 2 x 3 x f64>\n",
                 "tensor<4 x 2 x 3 x f64>", 3),
          shaped(OpKind::Slice, kT23,
                 "  %y = slice %x {axis = 1, limit = 3, start = 1} : tensor<2 x 2 x f64>\n",
                 "tensor<2 x 2 x f64>", 2),
          shaped(OpKind::Concat, kT23,
                 "  %e = exp %x : tensor<2 x 3 x f64>\n"
                 "  %y = concat %x, %e, %x {axis = 1} : tensor<2 x 9 x f64>\n",
                 "tensor<2 x 9 x f64>", 2),
          shaped(OpKind::Pad, kT23,
                 "  %y = pad %x {high = [0, 2], low = [1, 1], value = 0.5} : tensor<3 x 6 x f64>\n",
                 "tensor<3 x 6 x f64>", 2)};
}

std::vector<OpGradCase> gatherScatterCases() {
  Array idx = Array::of<int64_t>({4}, {2, 0, 2, 4});
  return {shaped(OpKind::Gather, "tensor<5 x 3 x f64>",
                 "  %y = gather %x, %i {axis = 0} : tensor<4 x 3 x f64>\n", "tensor<4 x 3 x f64>",
                 2, {{"i", idx}}, ", %i: tensor<4 x i64>"),
          {OpKind::ScatterAdd,
           {withLoss("%base: tensor<5 x 3 x f64>, %i: tensor<4 x i64>, %u: tensor<4 x 3 x f64>",
                     "  %y = scatter_add %base, %i, %u {axis = 0} : tensor<5 x 3 x f64>\n",
                     "tensor<5 x 3 x f64>", 2),
            {"base", "u"},
            -1.0,
            1.0,
            {{"i", idx}}}}};
}

std::vector<OpGradCase> reductionCases() {
  std::vector<OpGradCase> cs;
  const char *x = "tensor<2 x 3 x 4 x f64>";
  for (OpKind k : {OpKind::ReduceSum, OpKind::ReduceMax, OpKind::ReduceMin, OpKind::ReduceMean})
    cs.push_back(shaped(
        k, x,
        fmt::format("  %y = {} %x {{axes = [0, 2]}} : tensor<3 x f64>\n", weft::ir::opName(k)),
        "tensor<3 x f64>", 1));
  return cs;
}

std::vector<OpGradCase> matmulCases() {
  return {
      {OpKind::Matmul,
       {withLoss("%a: tensor<2 x 3 x f64>, %b: tensor<3 x 4 x f64>",
                 "  %y = matmul %a, %b : tensor<2 x 4 x f64>\n", "tensor<2 x 4 x f64>", 2),
        {"a", "b"}}},
      {OpKind::Matmul,
       {withLoss("%a: tensor<2 x 2 x 3 x f64>, %b: tensor<2 x 3 x 4 x f64>",
                 "  %y = matmul %a, %b : tensor<2 x 2 x 4 x f64>\n", "tensor<2 x 2 x 4 x f64>", 3),
        {"a", "b"}}}};
}

std::vector<OpGradCase> attentionCases() {
  // Odd sizes, two heads, a causal case with a broadcast key-padding mask, a full mask; the VJP
  // is one attention_grad op recomputing the scores, and primitives for the mask.
  return {
      {OpKind::Attention,
       {withLoss("%q: tensor<3 x 2 x f64>, %k: tensor<5 x 2 x f64>, %v: tensor<5 x 3 x f64>",
                 "  %y = attention %q, %k, %v {scale = 0.7} : tensor<3 x 3 x f64>\n",
                 "tensor<3 x 3 x f64>", 2),
        {"q", "k", "v"}}},
      {OpKind::Attention,
       {withLoss("%q: tensor<2 x 4 x 3 x f64>, %k: tensor<2 x 4 x 3 x f64>, %v: tensor<2 x 4 x "
                 "2 x f64>, %pad: tensor<2 x 1 x 4 x f64>",
                 "  %y = attention %q, %k, %v, %pad {causal = 1, scale = 0.5} : tensor<2 x 4 x "
                 "2 x f64>\n",
                 "tensor<2 x 4 x 2 x f64>", 3),
        {"q", "k", "v", "pad"}}},
      {OpKind::Attention,
       {withLoss("%q: tensor<1 x 2 x f64>, %k: tensor<3 x 2 x f64>, %v: tensor<3 x 2 x f64>, "
                 "%m: tensor<1 x 3 x f64>",
                 "  %y = attention %q, %k, %v, %m {scale = 1.5} : tensor<1 x 2 x f64>\n",
                 "tensor<1 x 2 x f64>", 2),
        {"q", "k", "v", "m"}}},
      // Some of q, k, v wanted: attention_grad's wrt leaves the others out.
      {OpKind::Attention,
       {withLoss("%q: tensor<4 x 3 x f64>, %k: tensor<5 x 3 x f64>, %v: tensor<5 x 2 x f64>",
                 "  %y = attention %q, %k, %v {causal = 1, scale = 0.6} : tensor<4 x 2 x f64>\n",
                 "tensor<4 x 2 x f64>", 2),
        {"q"}}},
      {OpKind::Attention,
       {withLoss("%q: tensor<4 x 3 x f64>, %k: tensor<5 x 3 x f64>, %v: tensor<5 x 2 x f64>",
                 "  %y = attention %q, %k, %v {scale = 0.6} : tensor<4 x 2 x f64>\n",
                 "tensor<4 x 2 x f64>", 2),
        {"k", "v"}}}};
}

std::vector<OpGradCase> additiveAttentionCases() {
  // Odd sizes (B 2, S 3, A 5, D 3); the loss reads both results, the context and the weights,
  // and with the mask (one key of a row blocked) differentiates it too.
  const char *params = "%qp: tensor<2 x 5 x f64>, %kp: tensor<2 x 3 x 5 x f64>, %v: tensor<5 x "
                       "f64>, %values: tensor<2 x 3 x 3 x f64>, %r: tensor<2 x 3 x f64>, %rw: "
                       "tensor<2 x 3 x f64>";
  auto text = [&](bool masked) {
    return fmt::format(
        "func @f({}{}) -> (tensor<f64>) {{\n"
        "  %c, %w = additive_attention %qp, %kp, %v, %values{} : tensor<2 x 3 x f64>, tensor<2 "
        "x 3 x f64>\n"
        "  %cr = mul %c, %r : tensor<2 x 3 x f64>\n"
        "  %wr = mul %w, %rw : tensor<2 x 3 x f64>\n"
        "  %l1 = reduce_sum %cr {{axes = [0, 1]}} : tensor<f64>\n"
        "  %l2 = reduce_sum %wr {{axes = [0, 1]}} : tensor<f64>\n"
        "  %l = add %l1, %l2 : tensor<f64>\n"
        "  return %l\n}}\n",
        params, masked ? ", %mask: tensor<2 x 3 x f64>" : "", masked ? ", %mask" : "");
  };
  Array mask =
      Array::of<double>({2, 3}, {0, -std::numeric_limits<double>::infinity(), 0.3, -0.2, 0.1, 0});
  return {{OpKind::AdditiveAttention, {text(false), {"qp", "kp", "v", "values"}}},
          {OpKind::AdditiveAttention,
           {text(true), {"qp", "kp", "v", "values"}, -1.0, 1.0, {{"mask", mask}}}}};
}

std::vector<OpGradCase> castCases() {
  // f64 -> f32 -> f64 would round, so finite differences would measure the rounding: the
  // check runs on an f64 -> f64 cast, which goes through the same rule.
  return {
      {OpKind::Cast,
       {withLoss(fmt::format("%x: {}", kT23), fmt::format("  %y = cast %x : {}\n", kT23), kT23, 2),
        {"x"}}}};
}

/// On one process (the interpreter) all_reduce is the identity; its VJP, an all_reduce of the
/// adjoint, must be too. tests/lit/passes/autodiff_all_reduce.wir checks the VJP's attributes.
std::vector<OpGradCase> collectiveCases() {
  std::vector<OpGradCase> cs;
  for (const char *attrs : {"{group = 0}", "{group = 3, mean = 1}"})
    cs.push_back({OpKind::AllReduce,
                  {withLoss(fmt::format("%x: {}", kT23),
                            fmt::format("  %y = all_reduce %x {} : {}\n", attrs, kT23), kT23, 2),
                   {"x"}}});
  return cs;
}

void run(const std::vector<OpGradCase> &cs) {
  for (const OpGradCase &c : cs) {
    CAPTURE(weft::ir::opName(c.kind));
    CAPTURE(c.grad.ir);
    checkGradients(c.grad);
  }
}

} // namespace

TEST_CASE("unary ops: VJPs match finite differences") { run(unaryCases()); }

TEST_CASE("binary ops: VJPs match finite differences for both operands") { run(binaryCases()); }

TEST_CASE("select: gradient flows to the chosen operand only") { run(selectCases()); }

TEST_CASE("shape ops: VJPs match finite differences") { run(shapeCases()); }

TEST_CASE("gather and scatter_add: VJPs match finite differences, repeated indices included") {
  run(gatherScatterCases());
}

TEST_CASE("reductions: VJPs match finite differences") { run(reductionCases()); }

TEST_CASE("matmul: VJPs match finite differences, batched included") { run(matmulCases()); }

TEST_CASE("attention: VJPs (attention_grad) match finite differences, causal and masked") {
  run(attentionCases());
  run(additiveAttentionCases());
}

TEST_CASE("cast between float types passes the gradient through") { run(castCases()); }

TEST_CASE("all_reduce over a group of one passes the gradient through") { run(collectiveCases()); }

TEST_CASE("stop_gradient: the loss is treated as constant in its operand") {
  // loss = sum(stop_gradient(x) * x): autodiff sees d/dx = stop_gradient(x) = x, where finite
  // differences would see 2x.
  auto m = weft::ir::parseModule(R"(func @f(%x: tensor<3 x f64>) -> (tensor<f64>) {
  %s = stop_gradient %x : tensor<3 x f64>
  %y = mul %s, %x : tensor<3 x f64>
  %l = reduce_sum %y {axes = [0]} : tensor<f64>
  return %l
}
)");
  REQUIRE(m.isOk());
  auto g = weft::autodiff::buildGradient(**m, *(*m)->functions().front());
  REQUIRE(g.isOk());
  std::vector<Array> in{Array::of<double>({3}, {0.5, -2.0, 3.0})};
  auto out = weft::reference::run(**g, in);
  REQUIRE(out.isOk());
  for (int64_t i = 0; i < 3; ++i)
    CHECK((*out)[1].getDouble(i) == in[0].getDouble(i));
}

TEST_CASE("every op kind has a gradient check or is not differentiable") {
  std::set<OpKind> checked;
  for (auto *cases :
       {unaryCases, binaryCases, selectCases, shapeCases, gatherScatterCases, reductionCases,
        matmulCases, attentionCases, additiveAttentionCases, castCases, collectiveCases})
    for (const OpGradCase &c : cases())
      checked.insert(c.kind);
  // Kinds with no gradient (integer or boolean results, producers, terminators), and kinds
  // checked elsewhere: stop_gradient by its own case above (not by finite differences), scan
  // in ScanGradTest.cpp, while and fusion (errors) in GradientErrorTest.cpp, lstm_sequence
  // in cpu/LstmSequenceTest.cpp, attention_grad and lstm_sequence_grad (errors: no second
  // derivatives) in GradientErrorTest.cpp.
  const std::set<OpKind> elsewhere = {OpKind::Not,          OpKind::Eq,
                                      OpKind::Ne,           OpKind::Lt,
                                      OpKind::Le,           OpKind::Gt,
                                      OpKind::Ge,           OpKind::And,
                                      OpKind::Or,           OpKind::Xor,
                                      OpKind::Argmax,       OpKind::Constant,
                                      OpKind::Iota,         OpKind::RandomUniform,
                                      OpKind::RandomNormal, OpKind::Scan,
                                      OpKind::While,        OpKind::Fusion,
                                      OpKind::Yield,        OpKind::Return,
                                      OpKind::StopGradient, OpKind::LstmSequence,
                                      OpKind::AttentionGrad};
  // gru_sequence and rnn_sequence: cpu/GruRnnSequenceTest.cpp; lstm_sequence_grad: above;
  // lstm_attention_step (inference only, refused): GradientErrorTest.cpp.
  const std::set<OpKind> fusedRecurrent = {OpKind::GruSequence, OpKind::RnnSequence,
                                           OpKind::LstmSequenceGrad, OpKind::LstmAttentionStep};
  // gru_sequence_grad and rnn_sequence_grad (errors: no second derivatives):
  // GradientErrorTest.cpp.
  const std::set<OpKind> fusedRecurrentGrads = {OpKind::GruSequenceGrad, OpKind::RnnSequenceGrad};
  for (OpKind k : weft::ir::allOpKinds()) {
    CAPTURE(weft::ir::opName(k));
    CHECK((checked.count(k) + elsewhere.count(k) + fusedRecurrent.count(k) +
           fusedRecurrentGrads.count(k)) == 1);
  }
}

} // namespace autodiff_OpGradTest
