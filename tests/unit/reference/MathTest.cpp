//===- tests/unit/reference/MathTest.cpp - reductions, matmul, producers --===//
#include "Helpers.h"
#include "tests/unit/RandomVectors.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

namespace weft::test::reference_MathTest {

std::vector<OpCase> mathCases() {
  std::vector<OpCase> cs;
  for (DType dt : {DType::F32, DType::F64}) {
    auto v = [dt](std::vector<int64_t> s, std::vector<double> xs) { return floats(dt, s, xs); };
    cs.push_back(
        {std::string("reductions and argmax ") + std::string(dtypeName(dt)),
         withDType(R"(
func @f(%x: tensor<2 x 3 x DT>, %y: tensor<3 x DT>) -> (tensor<2 x DT>, tensor<3 x DT>, tensor<DT>, tensor<2 x DT>, tensor<3 x DT>, tensor<2 x DT>, tensor<2 x i64>, tensor<3 x i64>, tensor<i64>) {
  %s1 = reduce_sum %x {axes = [1]} : tensor<2 x DT>
  %s0 = reduce_sum %x {axes = [0]} : tensor<3 x DT>
  %s = reduce_sum %x {axes = [0, 1]} : tensor<DT>
  %mx = reduce_max %x {axes = [1]} : tensor<2 x DT>
  %mn = reduce_min %x {axes = [0]} : tensor<3 x DT>
  %mean = reduce_mean %x {axes = [1]} : tensor<2 x DT>
  %a1 = argmax %x {axis = 1} : tensor<2 x i64>
  %a0 = argmax %x {axis = 0} : tensor<3 x i64>
  %tie = argmax %y {axis = 0} : tensor<i64>
  return %s1, %s0, %s, %mx, %mn, %mean, %a1, %a0, %tie
}
)",
                   dt),
         {v({2, 3}, {1, 5, 3, -2, 0, 4}), v({3}, {3, 7, 7})},
         {v({2}, {9, 2}), v({3}, {-1, 5, 7}), v({}, {11}), v({2}, {5, 4}), v({3}, {-2, 0, 3}),
          v({2}, {3, 2.0 / 3.0}), i64({2}, {1, 2}), i64({3}, {0, 0, 1}), i64({}, {1})},
         dt == DType::F32 ? 1e-7 : 1e-15});
    cs.push_back({std::string("matmul ") + std::string(dtypeName(dt)),
                  withDType(R"(
func @f(%a: tensor<2 x 3 x DT>, %b: tensor<3 x 2 x DT>, %p: tensor<2 x 1 x 2 x DT>, %q: tensor<2 x 2 x 1 x DT>) -> (tensor<2 x 2 x DT>, tensor<2 x 1 x 1 x DT>) {
  %c = matmul %a, %b : tensor<2 x 2 x DT>
  %d = matmul %p, %q : tensor<2 x 1 x 1 x DT>
  return %c, %d
}
)",
                            dt),
                  {v({2, 3}, {1, 2, 3, 4, 5, 6}), v({3, 2}, {7, 8, 9, 10, 11, 12}),
                   v({2, 1, 2}, {1, 2, 3, 4}), v({2, 2, 1}, {5, 6, 7, 8})},
                  {v({2, 2}, {58, 64, 139, 154}), v({2, 1, 1}, {17, 53})}});
  }
  // scale = ln 3, q = k = [1, 0]: row 0 scores [ln 3, 0] weigh v = [4, 8] by [3/4, 1/4],
  // row 1 scores [0, 0] by [1/2, 1/2]. A row whose scores are all -inf is zeros.
  // With do = [1, 1]: dp[i, j] = v[j], ds row 0 = [-3/4, 3/4], row 1 = [-1, 1].
  const double ln3 = std::log(3.0);
  for (DType dt : {DType::F32, DType::F64}) {
    auto v = [dt](std::vector<int64_t> s, std::vector<double> xs) { return floats(dt, s, xs); };
    double inf = std::numeric_limits<double>::infinity();
    cs.push_back({std::string("attention and attention_grad ") + std::string(dtypeName(dt)),
                  withDType(R"(
func @f(%q: tensor<2 x 1 x DT>, %k: tensor<2 x 1 x DT>, %v: tensor<2 x 1 x DT>, %pad: tensor<1 x 2 x DT>, %m: tensor<2 x 2 x DT>, %o: tensor<2 x 1 x DT>, %do: tensor<2 x 1 x DT>) -> (tensor<2 x 1 x DT>, tensor<2 x 1 x DT>, tensor<2 x 1 x DT>, tensor<2 x 1 x DT>, tensor<2 x 1 x DT>, tensor<2 x 1 x DT>, tensor<2 x 1 x DT>, tensor<2 x 1 x DT>, tensor<2 x 1 x DT>, tensor<2 x 1 x DT>) {
  %a = attention %q, %k, %v {scale = 1.0986122886681098} : tensor<2 x 1 x DT>
  %c = attention %q, %k, %v {causal = 1, scale = 1.0986122886681098} : tensor<2 x 1 x DT>
  %p = attention %q, %k, %v, %pad {scale = 1.0986122886681098} : tensor<2 x 1 x DT>
  %z = attention %q, %k, %v, %m {scale = 1.0986122886681098} : tensor<2 x 1 x DT>
  %dq, %dk, %dv = attention_grad %q, %k, %v, %o, %do {scale = 1.0986122886681098} : tensor<2 x 1 x DT>, tensor<2 x 1 x DT>, tensor<2 x 1 x DT>
  %wq, %wk, %wv = attention_grad %q, %k, %v, %o, %do {scale = 1.0986122886681098, wrt = 2} : tensor<2 x 1 x DT>, tensor<2 x 1 x DT>, tensor<2 x 1 x DT>
  return %a, %c, %p, %z, %dq, %dk, %dv, %wq, %wk, %wv
}
)",
                            dt),
                  {v({2, 1}, {1, 0}), v({2, 1}, {1, 0}), v({2, 1}, {4, 8}), v({1, 2}, {0, -inf}),
                   v({2, 2}, {-inf, -inf, 0, 0}), v({2, 1}, {5, 6}), v({2, 1}, {1, 1})},
                  {v({2, 1}, {5, 6}), v({2, 1}, {4, 6}), v({2, 1}, {4, 4}), v({2, 1}, {0, 6}),
                   v({2, 1}, {-0.75 * ln3, -ln3}), v({2, 1}, {-0.75 * ln3, 0.75 * ln3}),
                   v({2, 1}, {1.25, 0.75}), v({2, 1}, {0, 0}), v({2, 1}, {-0.75 * ln3, 0.75 * ln3}),
                   v({2, 1}, {0, 0})},
                  dt == DType::F32 ? 1e-6 : 1e-14});
  }
  // additive_attention with qp = kp = 0: every score is 0, so row 0 weighs values [1, 3] by
  // [1/2, 1/2] (context 2) and row 1 [5, 7] (context 6); with the mask [0, -inf], row 0 by
  // [1, 0] (context 1); row 1, all keys masked, has zero weights and a zero context.
  for (DType dt : {DType::F32, DType::F64}) {
    auto v = [dt](std::vector<int64_t> s, std::vector<double> xs) { return floats(dt, s, xs); };
    double inf = std::numeric_limits<double>::infinity();
    cs.push_back({std::string("additive_attention ") + std::string(dtypeName(dt)),
                  withDType(R"(
func @f(%qp: tensor<2 x 1 x DT>, %kp: tensor<2 x 2 x 1 x DT>, %v: tensor<1 x DT>, %values: tensor<2 x 2 x 1 x DT>, %mask: tensor<2 x 2 x DT>) -> (tensor<2 x 1 x DT>, tensor<2 x 2 x DT>, tensor<2 x 1 x DT>, tensor<2 x 2 x DT>) {
  %c, %w = additive_attention %qp, %kp, %v, %values : tensor<2 x 1 x DT>, tensor<2 x 2 x DT>
  %cm, %wm = additive_attention %qp, %kp, %v, %values, %mask : tensor<2 x 1 x DT>, tensor<2 x 2 x DT>
  return %c, %w, %cm, %wm
}
)",
                            dt),
                  {v({2, 1}, {0, 0}), v({2, 2, 1}, {0, 0, 0, 0}), v({1}, {1}),
                   v({2, 2, 1}, {1, 3, 5, 7}), v({2, 2}, {0, -inf, -inf, -inf})},
                  {v({2, 1}, {2, 6}), v({2, 2}, {0.5, 0.5, 0.5, 0.5}), v({2, 1}, {1, 0}),
                   v({2, 2}, {1, 0, 0, 0})},
                  dt == DType::F32 ? 1e-6 : 1e-14});
  }
  // lstm_attention_step with x = h = 0 and b = [0, ln 3, 0, 0]: i = o = 1/2, f = 3/4, g = 0, so
  // from c = 2, c2 = 3/2 and h2 = tanh(3/2)/2. With wq = 0 and kp = 0 every score is 0: the
  // two keys weigh values [1, 3] by [1/2, 1/2] (context 2), or by [1, 0] under the mask
  // [0, -inf] (context 1); att = [h2, context] . [1, 1].
  for (DType dt : {DType::F32, DType::F64}) {
    auto v = [dt](std::vector<int64_t> s, std::vector<double> xs) { return floats(dt, s, xs); };
    const double inf = std::numeric_limits<double>::infinity(), h2 = std::tanh(1.5) / 2;
    cs.push_back({std::string("lstm_attention_step ") + std::string(dtypeName(dt)),
                  withDType(R"(
func @f(%x: tensor<1 x 1 x DT>, %h: tensor<1 x 1 x DT>, %c: tensor<1 x 1 x DT>, %wx: tensor<1 x 4 x DT>, %wh: tensor<1 x 4 x DT>, %b: tensor<4 x DT>, %wq: tensor<1 x 1 x DT>, %kp: tensor<1 x 2 x 1 x DT>, %v: tensor<1 x DT>, %values: tensor<1 x 2 x 1 x DT>, %wa: tensor<2 x 1 x DT>, %mask: tensor<1 x 2 x DT>) -> (tensor<1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 2 x DT>, tensor<1 x 1 x DT>, tensor<1 x 2 x DT>) {
  %h2, %c2, %a, %w = lstm_attention_step %x, %h, %c, %wx, %wh, %b, %wq, %kp, %v, %values, %wa : tensor<1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 2 x DT>
  %h2m, %c2m, %am, %wm = lstm_attention_step %x, %h, %c, %wx, %wh, %b, %wq, %kp, %v, %values, %wa, %mask : tensor<1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 2 x DT>
  return %h2, %c2, %a, %w, %am, %wm
}
)",
                            dt),
                  {v({1, 1}, {0}), v({1, 1}, {0}), v({1, 1}, {2}), v({1, 4}, {0.5, -1, 2, 3}),
                   v({1, 4}, {1, 2, -3, 4}), v({4}, {0, std::log(3.0), 0, 0}), v({1, 1}, {0}),
                   v({1, 2, 1}, {0, 0}), v({1}, {1}), v({1, 2, 1}, {1, 3}), v({2, 1}, {1, 1}),
                   v({1, 2}, {0, -inf})},
                  {v({1, 1}, {h2}), v({1, 1}, {1.5}), v({1, 1}, {h2 + 2}), v({1, 2}, {0.5, 0.5}),
                   v({1, 1}, {h2 + 1}), v({1, 2}, {1, 0})},
                  dt == DType::F32 ? 1e-6 : 1e-14});
  }
  // gru_sequence_grad over one step from x = h0 = 0 with zero biases: r = z = 1/2, n = 0, so
  // h = 0 (hs). With dh = dhs + dhT = 2: dn = dh (1 - z) = 1 = d(gx_n) (n' = 1), dz = dh (h0 - n)
  // = 0, dr = 0, and dh0 = dh z + (d(gh_n) = r dn) whn = 1 + 1/2 * 3 in PyTorch's form; Cho's
  // gives d((r h0) wh_n) = dn, so dh0 = 1 + r whn as well and bh_n's gradient is dn = 1, not
  // r dn. dxs = d(gx_n) wxn = 2; the weights' gradients are 0 (x = h0 = 0).
  // rnn_sequence_grad over one step: tanh(1 * atanh(1/2) + 1 * 2 - 2) = 1/2; dz = 2 (1 - 1/4)
  // = 3/2: dxs = dz wx, dh0 = dz wh = 3, dwx = x dz, dwh = h0 dz, db = dz.
  for (DType dt : {DType::F32, DType::F64}) {
    auto v = [dt](std::vector<int64_t> s, std::vector<double> xs) { return floats(dt, s, xs); };
    const double a = std::atanh(0.5);
    cs.push_back(
        {std::string("gru_sequence_grad and rnn_sequence_grad ") + std::string(dtypeName(dt)),
         withDType(R"(
func @f(%x: tensor<1 x 1 x 1 x DT>, %h0: tensor<1 x 1 x DT>, %wx: tensor<1 x 3 x DT>, %wh: tensor<1 x 3 x DT>, %b3: tensor<3 x DT>, %hs: tensor<1 x 1 x 1 x DT>, %dhs: tensor<1 x 1 x 1 x DT>, %dhT: tensor<1 x 1 x DT>, %rx: tensor<1 x 1 x 1 x DT>, %rh0: tensor<1 x 1 x DT>, %rwx: tensor<1 x 1 x DT>, %rwh: tensor<1 x 1 x DT>, %rb: tensor<1 x DT>, %rhs: tensor<1 x 1 x 1 x DT>) -> (tensor<1 x 1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 3 x DT>, tensor<1 x 3 x DT>, tensor<3 x DT>, tensor<3 x DT>, tensor<1 x 1 x DT>, tensor<3 x DT>, tensor<1 x 1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x DT>) {
  %dx, %dh, %dwx, %dwh, %dbx, %dbh = gru_sequence_grad %x, %h0, %wx, %wh, %b3, %b3, %hs, %dhs, %dhT {linear_before_reset = 1} : tensor<1 x 1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 3 x DT>, tensor<1 x 3 x DT>, tensor<3 x DT>, tensor<3 x DT>
  %cx, %ch, %cwx, %cwh, %cbx, %cbh = gru_sequence_grad %x, %h0, %wx, %wh, %b3, %b3, %hs, %dhs, %dhT : tensor<1 x 1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 3 x DT>, tensor<1 x 3 x DT>, tensor<3 x DT>, tensor<3 x DT>
  %rdx, %rdh, %rdwx, %rdwh, %rdb = rnn_sequence_grad %rx, %rh0, %rwx, %rwh, %rb, %rhs, %dhs, %dhT : tensor<1 x 1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x 1 x DT>, tensor<1 x DT>
  return %dx, %dh, %dwx, %dwh, %dbx, %dbh, %ch, %cbh, %rdx, %rdh, %rdwx, %rdwh, %rdb
}
)",
                   dt),
         {v({1, 1, 1}, {0}), v({1, 1}, {0}), v({1, 3}, {0.5, -1, 2}), v({1, 3}, {1, 2, 3}),
          v({3}, {0, 0, 0}), v({1, 1, 1}, {0}), v({1, 1, 1}, {1}), v({1, 1}, {1}),
          v({1, 1, 1}, {1}), v({1, 1}, {1}), v({1, 1}, {a}), v({1, 1}, {2}), v({1}, {-2}),
          v({1, 1, 1}, {0.5})},
         {v({1, 1, 1}, {2}), v({1, 1}, {2.5}), v({1, 3}, {0, 0, 0}), v({1, 3}, {0, 0, 0}),
          v({3}, {0, 0, 1}), v({3}, {0, 0, 0.5}), v({1, 1}, {2.5}), v({3}, {0, 0, 1}),
          v({1, 1, 1}, {1.5 * a}), v({1, 1}, {3}), v({1, 1}, {1.5}), v({1, 1}, {1.5}),
          v({1}, {1.5})},
         dt == DType::F32 ? 1e-6 : 1e-14});
  }
  cs.push_back({"integer reductions and matmul",
                R"(
func @f(%x: tensor<2 x 3 x i32>, %a: tensor<1 x 2 x i64>, %b: tensor<2 x 1 x i64>) -> (tensor<2 x i32>, tensor<3 x i32>, tensor<3 x i32>, tensor<2 x i64>, tensor<1 x 1 x i64>) {
  %s = reduce_sum %x {axes = [1]} : tensor<2 x i32>
  %mx = reduce_max %x {axes = [0]} : tensor<3 x i32>
  %mn = reduce_min %x {axes = [0]} : tensor<3 x i32>
  %am = argmax %x {axis = 1} : tensor<2 x i64>
  %m = matmul %a, %b : tensor<1 x 1 x i64>
  return %s, %mx, %mn, %am, %m
}
)",
                {i32({2, 3}, {1, 5, 3, -2, 0, 4}), i64({1, 2}, {3, -4}), i64({2, 1}, {5, 6})},
                {i32({2}, {9, 2}), i32({3}, {1, 5, 4}), i32({3}, {-2, 0, 3}), i64({2}, {1, 2}),
                 i64({1, 1}, {-9})}});
  cs.push_back(
      {"constant and iota, with a symbolic dim",
       R"(
func @f(%x: tensor<B x f32>) -> (tensor<2 x 2 x f32>, tensor<3 x i32>, tensor<B x 2 x f64>, tensor<2 x i1>, tensor<2 x 3 x i32>, tensor<2 x 3 x f32>, tensor<B x i64>) {
  %c = constant {value = [1.5]} : tensor<2 x 2 x f32>
  %d = constant {value = [1, -2, 3]} : tensor<3 x i32>
  %e = constant {value = [0.25]} : tensor<B x 2 x f64>
  %b = constant {value = [1, 0]} : tensor<2 x i1>
  %i1 = iota {axis = 1} : tensor<2 x 3 x i32>
  %i0 = iota {axis = 0} : tensor<2 x 3 x f32>
  %ib = iota {axis = 0} : tensor<B x i64>
  return %c, %d, %e, %b, %i1, %i0, %ib
}
)",
       {f32({3}, {0, 0, 0})},
       {f32({2, 2}, {1.5, 1.5, 1.5, 1.5}), i32({3}, {1, -2, 3}),
        f64({3, 2}, {0.25, 0.25, 0.25, 0.25, 0.25, 0.25}), i1({2}, {1, 0}),
        i32({2, 3}, {0, 1, 2, 0, 1, 2}), f32({2, 3}, {0, 0, 0, 1, 1, 1}), i64({3}, {0, 1, 2})}});
  // Element i draws from counter i; the values come from tests/unit/make_random_vectors.py.
  std::vector<float> u, n;
  std::vector<double> v, m;
  for (const testing::RandomVector &r : testing::kRandomVectors) {
    if (r.seed != 5 || r.counter >= 3)
      continue;
    u.push_back(r.uniformF32);
    v.push_back(r.uniformF64);
    n.push_back(static_cast<float>(r.normalF64));
    m.push_back(r.normalF64);
  }
  REQUIRE(u.size() == 3);
  cs.push_back({"random_uniform and random_normal",
                R"(
func @f(%seed: tensor<i64>) -> (tensor<3 x f32>, tensor<3 x f64>, tensor<3 x f32>, tensor<3 x f64>) {
  %u = random_uniform %seed : tensor<3 x f32>
  %v = random_uniform %seed : tensor<3 x f64>
  %n = random_normal %seed : tensor<3 x f32>
  %m = random_normal %seed : tensor<3 x f64>
  return %u, %v, %n, %m
}
)",
                {i64({}, {5})},
                {f32({3}, u), f64({3}, v), f32({3}, n), f64({3}, m)},
                // the normals went through Python's libm, not this one (RandomVectors.h)
                1e-14});
  // The interpreter is one process: a group of one, whose sum and mean are the operand.
  cs.push_back({"all_reduce over a group of one is the identity",
                R"(
func @f(%x: tensor<2 x 2 x f32>, %y: tensor<3 x f64>) -> (tensor<2 x 2 x f32>, tensor<3 x f64>) {
  %s = all_reduce %x {group = 0} : tensor<2 x 2 x f32>
  %m = all_reduce %y {group = 1, mean = 1} : tensor<3 x f64>
  return %s, %m
}
)",
                {f32({2, 2}, {1.5f, -2, 0, 7}), f64({3}, {0.25, -1, 3})},
                {f32({2, 2}, {1.5f, -2, 0, 7}), f64({3}, {0.25, -1, 3})}});
  return cs;
}

TEST_CASE("reductions, matmul and producers match hand-computed values") {
  for (const OpCase &c : mathCases())
    checkCase(c);
}

} // namespace weft::test::reference_MathTest

// Declared in Helpers.h, for CoverageTest.
std::vector<weft::test::OpCase> weft::test::mathCases() { return reference_MathTest::mathCases(); }
