//===- tests/unit/reference/ControlFlowTest.cpp - scan and while ----------===//
#include "Helpers.h"

#include <doctest/doctest.h>

#include <cmath>

namespace weft::test::reference_ControlFlowTest {
namespace {

/// A running sum over xs[T x 2]: the carry is the sum so far and each step emits it.
std::string runningSum(const std::string &opts) {
  return R"(
func @f(%xs: tensor<T x 2 x f32>, %s0: tensor<2 x f32>, %len: tensor<2 x i32>) -> (tensor<2 x f32>, tensor<T x 2 x f32>) {
  %sT, %ss = scan carry(%s0) over(%xs))" +
         opts + R"( {
  ^body(%s: tensor<2 x f32>, %x: tensor<2 x f32>):
    %s2 = add %s, %x : tensor<2 x f32>
    yield %s2, %s2
  } : tensor<2 x f32>, tensor<T x 2 x f32>
  return %sT, %ss
}
)";
}

/// Counts up each example's carry until it reaches its limit (captured from outside the loop),
/// emitting the count each trip.
std::string counter(int maxTrips) {
  return R"(
func @f(%f0: tensor<B x i1>, %c0: tensor<B x i64>, %lim: tensor<B x i64>) -> (tensor<B x i1>, tensor<B x i64>, tensor<)" +
         std::to_string(maxTrips) + R"( x B x i64>, tensor<i64>) {
  %fin, %c, %cs, %n = while finished(%f0) carry(%c0) {max_trips = )" +
         std::to_string(maxTrips) + R"(} {
  ^body(%x: tensor<B x i64>):
    %one = constant {value = [1]} : tensor<B x i64>
    %x2 = add %x, %one : tensor<B x i64>
    %done = ge %x2, %lim : tensor<B x i1>
    yield %done, %x2, %x2
  } : tensor<B x i1>, tensor<B x i64>, tensor<)" +
         std::to_string(maxTrips) + R"( x B x i64>, tensor<i64>
  return %fin, %c, %cs, %n
}
)";
}

} // namespace

std::vector<OpCase> controlFlowCases() {
  Array xs = f32({3, 2}, {1, 2, 3, 4, 5, 6});
  Array zero = f32({2}, {0, 0});
  Array unused = i32({2}, {3, 3});
  std::vector<OpCase> cs;
  cs.push_back({"scan: a running sum",
                runningSum(""),
                {xs, zero, unused},
                {f32({2}, {9, 12}), f32({3, 2}, {1, 2, 4, 6, 9, 12})}});
  // Reverse: step t = 2 runs first, and each emit lands at the index of its step.
  cs.push_back({"scan: reverse",
                runningSum(" {reverse = 1}"),
                {xs, zero, unused},
                {f32({2}, {9, 12}), f32({3, 2}, {9, 12, 8, 10, 5, 6})}});
  // Example 0 has length 2: step 2 leaves its carry alone and emits zero for it.
  cs.push_back({"scan: lengths mask padded steps",
                runningSum(" lengths(%len)"),
                {xs, zero, i32({2}, {2, 3})},
                {f32({2}, {4, 12}), f32({3, 2}, {1, 2, 4, 6, 0, 12})}});
  // Reverse with lengths: example 0 starts at t = 1.
  cs.push_back({"scan: reverse with lengths",
                runningSum(" lengths(%len) {reverse = 1}"),
                {xs, zero, i32({2}, {2, 3})},
                {f32({2}, {4, 12}), f32({3, 2}, {4, 12, 3, 10, 0, 6})}});
  cs.push_back({"scan: no carries, two sequences, a captured value",
                R"(
func @f(%xs: tensor<2 x 2 x f64>, %ys: tensor<2 x i32>, %w: tensor<2 x f64>) -> (tensor<2 x 2 x f64>, tensor<2 x i32>) {
  %zs, %is = scan carry() over(%xs, %ys) {
  ^body(%x: tensor<2 x f64>, %y: tensor<i32>):
    %z = mul %x, %w : tensor<2 x f64>
    yield %z, %y
  } : tensor<2 x 2 x f64>, tensor<2 x i32>
  return %zs, %is
}
)",
                {f64({2, 2}, {1, 2, 3, 4}), i32({2}, {7, 8}), f64({2}, {10, 100})},
                {f64({2, 2}, {10, 200, 30, 400}), i32({2}, {7, 8})}});
  // x + bias, then sum over axis 1 and the max of (x + bias) * 2 over axis 1.
  cs.push_back({"fusion: broadcast argument, splat constant, element result and reductions",
                R"(
func @f(%x: tensor<2 x 3 x f64>, %bias: tensor<3 x f64>) -> (tensor<2 x 3 x f64>, tensor<2 x f64>, tensor<2 x f64>) {
  %y, %s, %m = fusion %x, %bias {
  ^body(%a: tensor<2 x 3 x f64>, %b: tensor<3 x f64>):
    %bb = broadcast %b {dims = [1]} : tensor<2 x 3 x f64>
    %two = constant {value = [2.0]} : tensor<2 x 3 x f64>
    %t = add %a, %bb : tensor<2 x 3 x f64>
    %u = mul %t, %two : tensor<2 x 3 x f64>
    %r = reduce_sum %t {axes = [1]} : tensor<2 x f64>
    %q = reduce_max %u {axes = [1]} : tensor<2 x f64>
    yield %t, %r, %q
  } : tensor<2 x 3 x f64>, tensor<2 x f64>, tensor<2 x f64>
  return %y, %s, %m
}
)",
                {f64({2, 3}, {1, 2, 3, 4, 5, 6}), f64({3}, {10, 20, -30})},
                {f64({2, 3}, {11, 22, -27, 14, 25, -24}), f64({2}, {6, 15}), f64({2}, {44, 50})}});
  // Limits 1, 3, 2: example 0 finishes after trip 0, example 2 after trip 1, example 1 after
  // trip 2; finished examples keep their carry and emit zeros; rows 3 and 4 never run.
  cs.push_back({"while: examples finish at different trips",
                counter(5),
                {i1({3}, {0, 0, 0}), i64({3}, {0, 0, 0}), i64({3}, {1, 3, 2})},
                {i1({3}, {1, 1, 1}), i64({3}, {1, 3, 2}),
                 i64({5, 3}, {1, 1, 1, 0, 2, 2, 0, 3, 0, 0, 0, 0, 0, 0, 0}), i64({}, {3})}});
  cs.push_back({"while: max_trips bounds the loop",
                counter(2),
                {i1({2}, {0, 0}), i64({2}, {0, 5}), i64({2}, {10, 10})},
                {i1({2}, {0, 0}), i64({2}, {2, 7}), i64({2, 2}, {1, 6, 2, 7}), i64({}, {2})}});
  cs.push_back(
      {"while: exits before the first trip when all are finished",
       counter(4),
       {i1({2}, {1, 1}), i64({2}, {4, 5}), i64({2}, {10, 10})},
       {i1({2}, {1, 1}), i64({2}, {4, 5}), i64({4, 2}, {0, 0, 0, 0, 0, 0, 0, 0}), i64({}, {0})}});
  cs.push_back(
      {"while: an example finished on entry never runs",
       counter(3),
       {i1({2}, {1, 0}), i64({2}, {0, 0}), i64({2}, {1, 1})},
       {i1({2}, {1, 1}), i64({2}, {0, 1}), i64({3, 2}, {0, 1, 0, 0, 0, 0}), i64({}, {1})}});
  // H = 1 and only the g gate reads x (wh = b = 0): i = f = o = 1/2, so each step is
  // c = c / 2 + tanh(x) / 2 and h = tanh(c) / 2. Example 0 has length 1: step 1 keeps its
  // state and emits 0.
  double c00 = 2 + std::tanh(1.0) / 2, c01 = 4 + std::tanh(2.0) / 2;
  double c11 = c01 / 2 + std::tanh(4.0) / 2;
  cs.push_back({"lstm_sequence: gates, state update and lengths",
                R"(
func @f(%xs: tensor<2 x 2 x 1 x f64>, %h0: tensor<2 x 1 x f64>, %c0: tensor<2 x 1 x f64>, %wx: tensor<1 x 4 x f64>, %wh: tensor<1 x 4 x f64>, %b: tensor<4 x f64>, %len: tensor<2 x i32>) -> (tensor<2 x 2 x 1 x f64>, tensor<2 x 1 x f64>, tensor<2 x 1 x f64>) {
  %hs, %hT, %cT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b, %len : tensor<2 x 2 x 1 x f64>, tensor<2 x 1 x f64>, tensor<2 x 1 x f64>
  return %hs, %hT, %cT
}
)",
                {f64({2, 2, 1}, {1, 2, 3, 4}), f64({2, 1}, {0, 0}), f64({2, 1}, {4, 8}),
                 f64({1, 4}, {0, 0, 1, 0}), f64({1, 4}, {0, 0, 0, 0}), f64({4}, {0, 0, 0, 0}),
                 i32({2}, {1, 2})},
                {f64({2, 2, 1}, {std::tanh(c00) / 2, std::tanh(c01) / 2, 0, std::tanh(c11) / 2}),
                 f64({2, 1}, {std::tanh(c00) / 2, std::tanh(c11) / 2}), f64({2, 1}, {c00, c11})},
                1e-15});
  // lstm_sequence_grad at one step with zero weights: i = f = o = 1/2, g = 0, so c = c0 / 2 and
  // h = tanh(c) / 2. With dhs = 1: dc = (1 - tanh(c)^2) / 2, dz = (0, dc c0 / 4, dc / 2,
  // tanh(c) / 4), dc0 = dc / 2, dh0 = dz . wh^T = 0, dxs = dz . wx^T = 0, dwx = x dz,
  // dwh = h0 dz, db = dz. (At T = 1 the op reads h0, not hs.)
  {
    double tc = std::tanh(1.0), dc = (1 - tc * tc) / 2;
    std::vector<double> dz = {0, dc / 2, dc / 2, tc / 4}, dwh;
    for (double v : dz)
      dwh.push_back(2 * v);
    cs.push_back({"lstm_sequence_grad: gate gradients of one step",
                  R"(
func @f(%xs: tensor<1 x 1 x 1 x f64>, %h0: tensor<1 x 1 x f64>, %c0: tensor<1 x 1 x f64>, %wx: tensor<1 x 4 x f64>, %wh: tensor<1 x 4 x f64>, %b: tensor<4 x f64>, %hs: tensor<1 x 1 x 1 x f64>, %dhs: tensor<1 x 1 x 1 x f64>, %dhT: tensor<1 x 1 x f64>, %dcT: tensor<1 x 1 x f64>) -> (tensor<1 x 1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 4 x f64>, tensor<1 x 4 x f64>, tensor<4 x f64>) {
  %dxs, %dh0, %dc0, %dwx, %dwh, %db = lstm_sequence_grad %xs, %h0, %c0, %wx, %wh, %b, %hs, %dhs, %dhT, %dcT : tensor<1 x 1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 1 x f64>, tensor<1 x 4 x f64>, tensor<1 x 4 x f64>, tensor<4 x f64>
  return %dxs, %dh0, %dc0, %dwx, %dwh, %db
}
)",
                  {f64({1, 1, 1}, {1}), f64({1, 1}, {2}), f64({1, 1}, {2}),
                   f64({1, 4}, {0, 0, 0, 0}), f64({1, 4}, {0, 0, 0, 0}), f64({4}, {0, 0, 0, 0}),
                   f64({1, 1, 1}, {0}), f64({1, 1, 1}, {1}), f64({1, 1}, {0}), f64({1, 1}, {0})},
                  {f64({1, 1, 1}, {0}), f64({1, 1}, {0}), f64({1, 1}, {dc / 2}), f64({1, 4}, dz),
                   f64({1, 4}, dwh), f64({4}, dz)},
                  1e-15});
  }
  // H = I = 1, the gates r and z read nothing (r = z = 1/2), n reads x with weight 1 and h
  // with weight 2, bh_n = 1. PyTorch's form: n = tanh(x + (2h + 1) / 2); Cho's, with reverse:
  // n = tanh(x + 2 (h / 2) + 1). Either way h = n / 2 + h / 2.
  const char *gruText = R"(
func @f(%xs: tensor<2 x 1 x 1 x f64>, %h0: tensor<1 x 1 x f64>, %wx: tensor<1 x 3 x f64>, %wh: tensor<1 x 3 x f64>, %bx: tensor<3 x f64>, %bh: tensor<3 x f64>) -> (tensor<2 x 1 x 1 x f64>, tensor<1 x 1 x f64>) {
  %hs, %hT = gru_sequence %xs, %h0, %wx, %wh, %bx, %bh {ATTRS} : tensor<2 x 1 x 1 x f64>, tensor<1 x 1 x f64>
  return %hs, %hT
}
)";
  auto gruCase = [&](const char *name, const char *attrs, std::vector<double> hs, double hT) {
    std::string text = gruText;
    text.replace(text.find("ATTRS"), 5, attrs);
    cs.push_back({name,
                  text,
                  {f64({2, 1, 1}, {1, 2}), f64({1, 1}, {1}), f64({1, 3}, {0, 0, 1}),
                   f64({1, 3}, {0, 0, 2}), f64({3}, {0, 0, 0}), f64({3}, {0, 0, 1})},
                  {f64({2, 1, 1}, hs), f64({1, 1}, {hT})},
                  1e-15});
  };
  double a1 = std::tanh(2.5) / 2 + 0.5, a2 = std::tanh(2 + a1 + 0.5) / 2 + a1 / 2;
  gruCase("gru_sequence: r after the recurrent GEMM (PyTorch)", "linear_before_reset = 1", {a1, a2},
          a2);
  double c1 = std::tanh(4.0) / 2 + 0.5, c0 = std::tanh(1 + c1 + 1) / 2 + c1 / 2;
  gruCase("gru_sequence: Cho's form, reverse", "reverse = 1", {c0, c1}, c0);
  // rnn_sequence, H = I = 1: h = tanh(x + h / 2). Example 1 has length 1: step 1 keeps its
  // state and emits 0.
  double r00 = std::tanh(1.0), r01 = std::tanh(3.5), r10 = std::tanh(2 + r00 / 2);
  cs.push_back({"rnn_sequence: tanh, lengths",
                R"(
func @f(%xs: tensor<2 x 2 x 1 x f64>, %h0: tensor<2 x 1 x f64>, %wx: tensor<1 x 1 x f64>, %wh: tensor<1 x 1 x f64>, %b: tensor<1 x f64>, %len: tensor<2 x i32>) -> (tensor<2 x 2 x 1 x f64>, tensor<2 x 1 x f64>) {
  %hs, %hT = rnn_sequence %xs, %h0, %wx, %wh, %b, %len : tensor<2 x 2 x 1 x f64>, tensor<2 x 1 x f64>
  return %hs, %hT
}
)",
                {f64({2, 2, 1}, {1, 3, 2, 4}), f64({2, 1}, {0, 1}), f64({1, 1}, {1}),
                 f64({1, 1}, {0.5}), f64({1}, {0}), i32({2}, {2, 1})},
                {f64({2, 2, 1}, {r00, r01, r10, 0}), f64({2, 1}, {r10, r01})},
                1e-15});
  return cs;
}

TEST_CASE("scan and while match hand-computed values") {
  for (const OpCase &c : controlFlowCases())
    checkCase(c);
}

TEST_CASE("scan rejects a length outside [0, T]") {
  auto out = runText(runningSum(" lengths(%len)"),
                     {f32({3, 2}, {1, 2, 3, 4, 5, 6}), f32({2}, {0, 0}), i32({2}, {4, 1})});
  REQUIRE_FALSE(out.isOk());
  CHECK(out.diag().message == "scan: length 4 of example 0 is outside [0, 3]");
}

TEST_CASE("scan over zero steps returns the initial carry and empty emits") {
  auto out = runText(runningSum(""), {f32({0, 2}, {}), f32({2}, {1, 2}), i32({2}, {0, 0})});
  REQUIRE(out.isOk());
  CHECK((*out)[0].getDouble(1) == 2);
  CHECK((*out)[1].typeStr() == "f32[0, 2]");
}

} // namespace weft::test::reference_ControlFlowTest

// Declared in Helpers.h, for CoverageTest.
std::vector<weft::test::OpCase> weft::test::controlFlowCases() {
  return reference_ControlFlowTest::controlFlowCases();
}
