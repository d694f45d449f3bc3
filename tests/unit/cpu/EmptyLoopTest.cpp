//===- tests/unit/cpu/EmptyLoopTest.cpp - loops over no steps or no examples ===//
//
// Scans with T = 0 or B = 0, masked scans with an empty batch (issue 14: the per-example copy
// of a step's results divided the total bytes by B) and a while inside a scan, on the JIT with
// and without the `optimize` pipeline, each compared with the interpreter.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"

namespace cpu_EmptyLoopTest {

using namespace weft;
using namespace weft::cputest;

namespace {

const char *kEmptyLoops = R"(
func @masked(%h0: tensor<B x f32>, %xs: tensor<3 x B x f32>, %len: tensor<B x i32>) -> (tensor<B x f32>) {
  %hT = scan carry(%h0) over(%xs) lengths(%len) {
  ^body(%h: tensor<B x f32>, %x: tensor<B x f32>):
    %h2 = add %h, %x : tensor<B x f32>
    %h3 = mul %h2, %x : tensor<B x f32>
    yield %h3
  } : tensor<B x f32>
  return %hT
}

func @masked_nested(%h0: tensor<B x f32>, %xss: tensor<2 x 3 x B x f32>, %len: tensor<B x i32>) -> (tensor<B x f32>, tensor<2 x B x f32>) {
  %hS, %hs = scan carry(%h0) over(%xss) {
  ^body(%h: tensor<B x f32>, %xs: tensor<3 x B x f32>):
    %hT, %gs = scan carry(%h) over(%xs) lengths(%len) {reverse = 1} {
    ^body(%g: tensor<B x f32>, %x: tensor<B x f32>):
      %g2 = add %g, %x : tensor<B x f32>
      %g3 = mul %g2, %x : tensor<B x f32>
      yield %g3, %g2
    } : tensor<B x f32>, tensor<3 x B x f32>
    yield %hT, %hT
  } : tensor<B x f32>, tensor<2 x B x f32>
  return %hS, %hs
}

func @masked_steps(%h0: tensor<B x 2 x f64>, %xs: tensor<T x B x 2 x f64>, %len: tensor<B x i64>) -> (tensor<B x 2 x f64>, tensor<T x B x 2 x f64>) {
  %hT, %hs = scan carry(%h0) over(%xs) lengths(%len) {
  ^body(%h: tensor<B x 2 x f64>, %x: tensor<B x 2 x f64>):
    %h2 = add %h, %x : tensor<B x 2 x f64>
    %h3 = tanh %h2 : tensor<B x 2 x f64>
    yield %h3, %h2
  } : tensor<B x 2 x f64>, tensor<T x B x 2 x f64>
  return %hT, %hs
}

func @while_in_scan(%a0: tensor<B x i32>, %xs: tensor<T x B x i32>, %f0: tensor<B x i1>) -> (tensor<B x i32>, tensor<T x B x i32>, tensor<T x i64>) {
  %aT, %ns, %trips = scan carry(%a0) over(%xs) {
  ^body(%a: tensor<B x i32>, %x: tensor<B x i32>):
    %fin, %n, %steps, %k = while finished(%f0) carry(%x) {max_trips = 4} {
    ^body(%n1: tensor<B x i32>):
      %one = constant {value = [1]} : tensor<B x i32>
      %zero = constant {value = [0]} : tensor<B x i32>
      %n2 = sub %n1, %one : tensor<B x i32>
      %done = le %n2, %zero : tensor<B x i1>
      yield %done, %n2, %n1
    } : tensor<B x i1>, tensor<B x i32>, tensor<4 x B x i32>, tensor<i64>
    %a2 = add %a, %n : tensor<B x i32>
    yield %a2, %n, %k
  } : tensor<B x i32>, tensor<T x B x i32>, tensor<T x i64>
  return %aT, %ns, %trips
}
)";

/// The module compiled for the JIT after `pipeline` ("" for none).
Compiled compileAfter(const std::string &pipeline) {
  auto m = ir::parseModule(kEmptyLoops, "empty_loops.wir");
  REQUIRE_OK(m);
  if (!pipeline.empty())
    runPipeline(**m, pipeline);
  return compileModule(std::move(*m));
}

/// Runs `fn` compiled after `pipeline` (in `c`) and the unoptimized `fn` on the interpreter
/// with the same inputs (lengths in [0, T]) and compares every result exactly.
void checkEmpty(const Compiled &c, const std::string &pipeline, const std::string &fn, int64_t T,
                int64_t B, size_t lenParam) {
  CAPTURE(pipeline);
  CAPTURE(fn);
  CAPTURE(T);
  CAPTURE(B);
  auto plain = ir::parseModule(kEmptyLoops, "empty_loops.wir");
  REQUIRE(plain);
  const ir::Function *f = (*plain)->function(fn);
  REQUIRE(f);
  ir::DimBindings dims{{"T", T}, {"B", B}};
  std::map<size_t, ParamGen> gens;
  if (lenParam < f->numParams())
    gens[lenParam] = {Gen::Index, T + 1};
  else // while_in_scan: each example counts down from x in [0, 5], so some hit max_trips
    gens[1] = {Gen::Index, 6};
  std::vector<Array> in = randomInputs(*f, dims, gens, 7);
  checkAgainstInterpreter(c, fn, *f, in, dims, Tolerance::exact());
}

constexpr size_t kNoLengths = 99;

const char *const kPipelines[] = {"", "optimize"};

} // namespace

TEST_CASE("cpu: a masked scan over an empty batch returns the empty result (issue 14)") {
  for (const char *pipeline : kPipelines) {
    Compiled c = compileAfter(pipeline);
    for (int64_t B : {0, 1, 5}) {
      checkEmpty(c, pipeline, "masked", 3, B, 2);
      checkEmpty(c, pipeline, "masked_nested", 3, B, 2);
    }
  }
}

TEST_CASE("cpu: scans with T = 0 or B = 0 keep their initial carries and emit nothing") {
  for (const char *pipeline : kPipelines) {
    Compiled c = compileAfter(pipeline);
    for (auto [T, B] : {std::pair<int64_t, int64_t>{0, 3}, {4, 0}, {0, 0}, {4, 3}})
      checkEmpty(c, pipeline, "masked_steps", T, B, 2);
  }
}

TEST_CASE("cpu: a while inside a scan, with T = 0 or B = 0 too") {
  for (const char *pipeline : kPipelines) {
    Compiled c = compileAfter(pipeline);
    for (auto [T, B] : {std::pair<int64_t, int64_t>{0, 3}, {4, 0}, {0, 0}, {5, 6}})
      checkEmpty(c, pipeline, "while_in_scan", T, B, kNoLengths);
  }
}

} // namespace cpu_EmptyLoopTest
