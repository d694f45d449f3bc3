//===- tests/unit/cpu/ControlFlowTest.cpp - scan and while: JIT vs interpreter ===//
#include "Corpus.h"
#include "Parity.h"

namespace cpu_ControlFlowTest {

using namespace weft;
using namespace weft::cputest;

namespace {

const char *kScans = R"(
func @rnn(%xs: tensor<T x B x 4 x f32>, %W: tensor<4 x 8 x f32>, %U: tensor<8 x 8 x f32>, %h0: tensor<B x 8 x f32>) -> (tensor<B x 8 x f32>, tensor<T x B x 8 x f32>) {
  %hT, %hs = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<B x 8 x f32>, %x: tensor<B x 4 x f32>):
    %xw = matmul %x, %W : tensor<B x 8 x f32>
    %hu = matmul %h, %U : tensor<B x 8 x f32>
    %s = add %xw, %hu : tensor<B x 8 x f32>
    %h2 = tanh %s : tensor<B x 8 x f32>
    yield %h2, %h2
  } : tensor<B x 8 x f32>, tensor<T x B x 8 x f32>
  return %hT, %hs
}

func @masked(%xs: tensor<T x B x 4 x f64>, %ys: tensor<T x B x i32>, %len: tensor<B x i64>, %c0: tensor<B x 4 x f64>) -> (tensor<B x 4 x f64>, tensor<T x B x 4 x f64>, tensor<T x B x i32>) {
  %cT, %outs, %ids = scan carry(%c0) over(%xs, %ys) lengths(%len) {
  ^body(%c: tensor<B x 4 x f64>, %x: tensor<B x 4 x f64>, %y: tensor<B x i32>):
    %c2 = add %c, %x : tensor<B x 4 x f64>
    yield %c2, %c2, %y
  } : tensor<B x 4 x f64>, tensor<T x B x 4 x f64>, tensor<T x B x i32>
  return %cT, %outs, %ids
}

func @masked_reverse(%xs: tensor<T x B x 4 x f64>, %ys: tensor<T x B x i32>, %len: tensor<B x i32>, %c0: tensor<B x 4 x f64>) -> (tensor<B x 4 x f64>, tensor<T x B x 4 x f64>, tensor<T x B x i32>) {
  %cT, %outs, %ids = scan carry(%c0) over(%xs, %ys) lengths(%len) {reverse = 1} {
  ^body(%c: tensor<B x 4 x f64>, %x: tensor<B x 4 x f64>, %y: tensor<B x i32>):
    %c2 = mul %c, %x : tensor<B x 4 x f64>
    %c3 = add %c2, %x : tensor<B x 4 x f64>
    yield %c3, %c, %y
  } : tensor<B x 4 x f64>, tensor<T x B x 4 x f64>, tensor<T x B x i32>
  return %cT, %outs, %ids
}

func @swap(%xs: tensor<T x 3 x f32>, %a0: tensor<3 x f32>, %b0: tensor<3 x f32>) -> (tensor<3 x f32>, tensor<3 x f32>, tensor<T x 3 x f32>) {
  %aT, %bT, %e = scan carry(%a0, %b0) over(%xs) {
  ^body(%a: tensor<3 x f32>, %b: tensor<3 x f32>, %x: tensor<3 x f32>):
    %s = add %a, %x : tensor<3 x f32>
    yield %b, %s, %a
  } : tensor<3 x f32>, tensor<3 x f32>, tensor<T x 3 x f32>
  return %aT, %bT, %e
}

func @nested(%xss: tensor<S x T x 2 x f32>, %acc0: tensor<2 x f32>) -> (tensor<2 x f32>, tensor<S x T x 2 x f32>) {
  %accS, %all = scan carry(%acc0) over(%xss) {
  ^body(%acc: tensor<2 x f32>, %xs: tensor<T x 2 x f32>):
    %accT, %steps = scan carry(%acc) over(%xs) {reverse = 1} {
    ^body(%a: tensor<2 x f32>, %x: tensor<2 x f32>):
      %a2 = add %a, %x : tensor<2 x f32>
      %w = mul %a2, %acc0 : tensor<2 x f32>
      yield %a2, %w
    } : tensor<2 x f32>, tensor<T x 2 x f32>
    yield %accT, %steps
  } : tensor<2 x f32>, tensor<S x T x 2 x f32>
  return %accS, %all
}

func @decode(%f0: tensor<B x i1>, %tok0: tensor<B x i64>, %E: tensor<16 x 8 x f32>, %W: tensor<8 x 16 x f32>) -> (tensor<B x i1>, tensor<B x i64>, tensor<20 x B x i64>, tensor<i64>) {
  %fin, %tok, %toks, %n = while finished(%f0) carry(%tok0) {max_trips = 20} {
  ^body(%t: tensor<B x i64>):
    %e = gather %E, %t {axis = 0} : tensor<B x 8 x f32>
    %logits = matmul %e, %W : tensor<B x 16 x f32>
    %t2 = argmax %logits {axis = 1} : tensor<B x i64>
    %eos = constant {value = [0]} : tensor<B x i64>
    %done = eq %t2, %eos : tensor<B x i1>
    yield %done, %t2, %t2
  } : tensor<B x i1>, tensor<B x i64>, tensor<20 x B x i64>, tensor<i64>
  return %fin, %tok, %toks, %n
}

func @countdown(%f0: tensor<B x i1>, %n0: tensor<B x i32>) -> (tensor<B x i1>, tensor<B x i32>, tensor<50 x B x i32>, tensor<i64>) {
  %fin, %n, %ns, %trips = while finished(%f0) carry(%n0) {max_trips = 50} {
  ^body(%n1: tensor<B x i32>):
    %one = constant {value = [1]} : tensor<B x i32>
    %zero = constant {value = [0]} : tensor<B x i32>
    %n2 = sub %n1, %one : tensor<B x i32>
    %done = le %n2, %zero : tensor<B x i1>
    yield %done, %n2, %n1
  } : tensor<B x i1>, tensor<B x i32>, tensor<50 x B x i32>, tensor<i64>
  return %fin, %n, %ns, %trips
}
)";

} // namespace

TEST_CASE("cpu: scan matches the interpreter (matmul body, symbolic T and B, odd sizes)") {
  Compiled c = compileText(kScans);
  for (int64_t T : {1, 7, 33}) {
    CAPTURE(T);
    // f32 matmuls accumulate in f32: one step sums 4 + 8 products of sizes below 4 and 2 (|x|,
    // |W|, |U| <= 2, |h| <= 1); tanh does not let the steps' errors grow.
    checkParity(c, "rnn", {{"T", T}, {"B", 3}}, Tolerance::sum(12, 32), {}, 11);
  }
}

TEST_CASE("cpu: scan with lengths masks carries and zeroes emits, forward and reverse") {
  Compiled c = compileText(kScans);
  for (int64_t B : {1, 7}) {
    CAPTURE(B);
    checkParity(c, "masked", {{"T", 9}, {"B", B}}, Tolerance::exact(), {{2, {Gen::Index, 10}}}, 5);
    checkParity(c, "masked_reverse", {{"T", 9}, {"B", B}}, Tolerance::exact(),
                {{2, {Gen::Index, 10}}}, 6);
  }
}

TEST_CASE("cpu: scan carries that swap each step and emit an old carry") {
  Compiled c = compileText(kScans);
  checkParity(c, "swap", {{"T", 7}});
}

TEST_CASE("cpu: nested reverse scan with a captured value") {
  Compiled c = compileText(kScans);
  checkParity(c, "nested", {{"S", 3}, {"T", 5}});
}

TEST_CASE("cpu: while loops exit early, keep finished examples and count trips") {
  Compiled c = compileText(kScans);
  checkParity(c, "decode", {{"B", 7}}, Tolerance::exact(), {{1, {Gen::Index, 16}}}, 3);
  for (uint64_t seed : {1, 2, 3}) {
    CAPTURE(seed);
    auto in = std::vector<Array>{Array::of<bool>({4}, {false, false, true, false}),
                                 Array::of<int32_t>({4}, {3, 1, 9, static_cast<int32_t>(seed)})};
    auto want = reference::run(*c.module->function("countdown"), in);
    REQUIRE_OK(want);
    checkTargets(c, "countdown", in, {}, *want, Tolerance::exact());
    CHECK((*want)[3].data<int64_t>()[0] == std::max<int64_t>(3, static_cast<int64_t>(seed)));
  }
}

TEST_CASE("cpu: every function of the IR corpus matches the interpreter") {
  std::vector<CorpusFile> files = compileCorpus();
  int64_t compared = checkCorpusParity(files, {{"B", 3}, {"T", 4}, {"S", 2}, {"N", 5}}, 9);
  CHECK(compared == kCorpusFunctions);
}

} // namespace cpu_ControlFlowTest
