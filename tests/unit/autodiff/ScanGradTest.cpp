// BPTT: finite-difference checks of the VJP of scan over 20+ steps, with masks.
#include "GradCheck.h"

#include <doctest/doctest.h>

namespace autodiff_ScanGradTest {

using weft::Array;
using weft::testing::checkGradients;

namespace {
const Array kLengths = Array::of<int64_t>({3}, {20, 13, 0});
} // namespace

TEST_CASE("tanh RNN over 20 steps with lengths: BPTT matches finite differences") {
  checkGradients(
      {R"(func @rnn(%xs: tensor<20 x 3 x 2 x f64>, %W: tensor<2 x 4 x f64>, %U: tensor<4 x 4 x f64>, %h0: tensor<3 x 4 x f64>, %len: tensor<3 x i64>, %r: tensor<20 x 3 x 4 x f64>) -> (tensor<f64>) {
  %hT, %hs = scan carry(%h0) over(%xs) lengths(%len) {
  ^body(%h: tensor<3 x 4 x f64>, %x: tensor<3 x 2 x f64>):
    %a = matmul %x, %W : tensor<3 x 4 x f64>
    %b = matmul %h, %U : tensor<3 x 4 x f64>
    %s = add %a, %b : tensor<3 x 4 x f64>
    %h2 = tanh %s : tensor<3 x 4 x f64>
    yield %h2, %h2
  } : tensor<3 x 4 x f64>, tensor<20 x 3 x 4 x f64>
  %w = mul %hs, %r : tensor<20 x 3 x 4 x f64>
  %l1 = reduce_sum %w {axes = [0, 1, 2]} : tensor<f64>
  %l2 = reduce_sum %hT {axes = [0, 1]} : tensor<f64>
  %l = add %l1, %l2 : tensor<f64>
  return %l
}
)",
       {"W", "U", "h0", "xs"},
       -1.0,
       1.0,
       {{"len", kLengths}}});
}

TEST_CASE("reverse scan with lengths (the backward half of a bidirectional RNN)") {
  checkGradients(
      {R"(func @birnn(%xs: tensor<21 x 3 x 2 x f64>, %W: tensor<2 x 3 x f64>, %U: tensor<3 x 3 x f64>, %len: tensor<3 x i32>, %r: tensor<21 x 3 x 3 x f64>) -> (tensor<f64>) {
  %h0 = constant {value = [0.0]} : tensor<3 x 3 x f64>
  %hT, %hs = scan carry(%h0) over(%xs) lengths(%len) {reverse = 1} {
  ^body(%h: tensor<3 x 3 x f64>, %x: tensor<3 x 2 x f64>):
    %a = matmul %x, %W : tensor<3 x 3 x f64>
    %b = matmul %h, %U : tensor<3 x 3 x f64>
    %s = add %a, %b : tensor<3 x 3 x f64>
    %h2 = tanh %s : tensor<3 x 3 x f64>
    yield %h2, %h2
  } : tensor<3 x 3 x f64>, tensor<21 x 3 x 3 x f64>
  %w = mul %hs, %r : tensor<21 x 3 x 3 x f64>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<f64>
  return %l
}
)",
       {"W", "U", "xs"},
       -1.0,
       1.0,
       {{"len", Array::of<int32_t>({3}, {21, 5, 1})}}});
}

TEST_CASE("LSTM over 20 steps with lengths: BPTT matches finite differences") {
  checkGradients(
      {R"(func @lstm(%xs: tensor<20 x 3 x 2 x f64>, %W: tensor<5 x 12 x f64>, %bias: tensor<12 x f64>, %len: tensor<3 x i64>, %r: tensor<20 x 3 x 3 x f64>) -> (tensor<f64>) {
  %zero = constant {value = [0.0]} : tensor<3 x 3 x f64>
  %hT, %cT, %hs = scan carry(%zero, %zero) over(%xs) lengths(%len) {
  ^body(%h: tensor<3 x 3 x f64>, %c: tensor<3 x 3 x f64>, %x: tensor<3 x 2 x f64>):
    %xh = concat %x, %h {axis = 1} : tensor<3 x 5 x f64>
    %zw = matmul %xh, %W : tensor<3 x 12 x f64>
    %bb = broadcast %bias {dims = [1]} : tensor<3 x 12 x f64>
    %z = add %zw, %bb : tensor<3 x 12 x f64>
    %zi = slice %z {axis = 1, limit = 3, start = 0} : tensor<3 x 3 x f64>
    %zf = slice %z {axis = 1, limit = 6, start = 3} : tensor<3 x 3 x f64>
    %zg = slice %z {axis = 1, limit = 9, start = 6} : tensor<3 x 3 x f64>
    %zo = slice %z {axis = 1, limit = 12, start = 9} : tensor<3 x 3 x f64>
    %i = sigmoid %zi : tensor<3 x 3 x f64>
    %f = sigmoid %zf : tensor<3 x 3 x f64>
    %g = tanh %zg : tensor<3 x 3 x f64>
    %o = sigmoid %zo : tensor<3 x 3 x f64>
    %fc = mul %f, %c : tensor<3 x 3 x f64>
    %ig = mul %i, %g : tensor<3 x 3 x f64>
    %c2 = add %fc, %ig : tensor<3 x 3 x f64>
    %tc = tanh %c2 : tensor<3 x 3 x f64>
    %h2 = mul %o, %tc : tensor<3 x 3 x f64>
    yield %h2, %c2, %h2
  } : tensor<3 x 3 x f64>, tensor<3 x 3 x f64>, tensor<20 x 3 x 3 x f64>
  %w = mul %hs, %r : tensor<20 x 3 x 3 x f64>
  %l1 = reduce_sum %w {axes = [0, 1, 2]} : tensor<f64>
  %l2 = reduce_sum %cT {axes = [0, 1]} : tensor<f64>
  %l = add %l1, %l2 : tensor<f64>
  return %l
}
)",
       {"W", "bias", "xs"},
       -1.0,
       1.0,
       {{"len", kLengths}}});
}

TEST_CASE("GRU over 22 steps with lengths: BPTT matches finite differences") {
  checkGradients(
      {R"(func @gru(%xs: tensor<22 x 3 x 2 x f64>, %W: tensor<2 x 9 x f64>, %U: tensor<3 x 6 x f64>, %Un: tensor<3 x 3 x f64>, %h0: tensor<3 x 3 x f64>, %len: tensor<3 x i64>, %r: tensor<22 x 3 x 3 x f64>) -> (tensor<f64>) {
  %hT, %hs = scan carry(%h0) over(%xs) lengths(%len) {
  ^body(%h: tensor<3 x 3 x f64>, %x: tensor<3 x 2 x f64>):
    %xw = matmul %x, %W : tensor<3 x 9 x f64>
    %hu = matmul %h, %U : tensor<3 x 6 x f64>
    %xz = slice %xw {axis = 1, limit = 3, start = 0} : tensor<3 x 3 x f64>
    %xr = slice %xw {axis = 1, limit = 6, start = 3} : tensor<3 x 3 x f64>
    %xn = slice %xw {axis = 1, limit = 9, start = 6} : tensor<3 x 3 x f64>
    %hz = slice %hu {axis = 1, limit = 3, start = 0} : tensor<3 x 3 x f64>
    %hr = slice %hu {axis = 1, limit = 6, start = 3} : tensor<3 x 3 x f64>
    %sz = add %xz, %hz : tensor<3 x 3 x f64>
    %z = sigmoid %sz : tensor<3 x 3 x f64>
    %sr = add %xr, %hr : tensor<3 x 3 x f64>
    %rg = sigmoid %sr : tensor<3 x 3 x f64>
    %rh = mul %rg, %h : tensor<3 x 3 x f64>
    %rn = matmul %rh, %Un : tensor<3 x 3 x f64>
    %sn = add %xn, %rn : tensor<3 x 3 x f64>
    %n = tanh %sn : tensor<3 x 3 x f64>
    %one = constant {value = [1.0]} : tensor<3 x 3 x f64>
    %omz = sub %one, %z : tensor<3 x 3 x f64>
    %a = mul %omz, %n : tensor<3 x 3 x f64>
    %b = mul %z, %h : tensor<3 x 3 x f64>
    %h2 = add %a, %b : tensor<3 x 3 x f64>
    yield %h2, %h2
  } : tensor<3 x 3 x f64>, tensor<22 x 3 x 3 x f64>
  %w = mul %hs, %r : tensor<22 x 3 x 3 x f64>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<f64>
  return %l
}
)",
       {"W", "U", "Un", "h0"},
       -1.0,
       1.0,
       {{"len", Array::of<int64_t>({3}, {22, 9, 1})}}});
}

TEST_CASE("nested scans: the inner scan's BPTT runs inside the outer reverse scan") {
  checkGradients(
      {R"(func @nested(%xs: tensor<4 x 3 x 2 x 2 x f64>, %W: tensor<2 x 2 x f64>, %h0: tensor<2 x 2 x f64>, %r: tensor<4 x 2 x 2 x f64>) -> (tensor<f64>) {
  %hT, %hs = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<2 x 2 x f64>, %x: tensor<3 x 2 x 2 x f64>):
    %gT, %gs = scan carry(%h) over(%x) {
    ^body(%g: tensor<2 x 2 x f64>, %xi: tensor<2 x 2 x f64>):
      %m = matmul %g, %W : tensor<2 x 2 x f64>
      %s = add %m, %xi : tensor<2 x 2 x f64>
      %g2 = tanh %s : tensor<2 x 2 x f64>
      yield %g2, %g2
    } : tensor<2 x 2 x f64>, tensor<3 x 2 x 2 x f64>
    yield %gT, %gT
  } : tensor<2 x 2 x f64>, tensor<4 x 2 x 2 x f64>
  %w = mul %hs, %r : tensor<4 x 2 x 2 x f64>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<f64>
  return %l
}
)",
       {"W", "h0", "xs"}});
}

} // namespace autodiff_ScanGradTest
