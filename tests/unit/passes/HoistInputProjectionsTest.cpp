// hoist-input-projections: the reference interpreter computes the same bits before and after
// the pass on LSTM forward scans (symbolic batch, lengths, reverse, nested), and a second run
// changes nothing. Bit for bit, not within a tolerance: the interpreter's matmul sums each
// output element over k in order, in double, and rounds once, so a row of the one GEMM over
// T*B rows is the same sum of the same products as the per-step matmul's row.
#include "PassTestUtil.h"
#include "backends/reference/Interpreter.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"
#include "tests/unit/LstmIr.h"
#include "tests/unit/RequireOk.h"

#include <cmath>
#include <cstring>
#include <random>
#include <sstream>
#include <string>

namespace passes_HoistInputProjectionsTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

/// One LSTM step over B x 4 (input 3): %xw = matmul %x, %W is the input projection.
const std::string kLstmStep =
    testing::lstmStep({.input = 3, .hidden = 4, .gates = testing::LstmGates::Separate});

const std::string kParams = "%xs: tensor<T x B x 3 x f32>, %h0: tensor<B x 4 x f32>, %c0: "
                            "tensor<B x 4 x f32>, %W: tensor<3 x 16 x f32>, %U: tensor<4 x 16 "
                            "x f32>, %bias: tensor<16 x f32>";
const std::string kResults = "(tensor<B x 4 x f32>, tensor<B x 4 x f32>, tensor<T x B x 4 x f32>)";
const std::string kScanTypes = "tensor<B x 4 x f32>, tensor<B x 4 x f32>, tensor<T x B x 4 x f32>";

/// An LSTM forward function: `scanHead` is the text between `scan` and the body's `{`.
std::string lstm(const std::string &name, const std::string &extraParams,
                 const std::string &scanHead) {
  return "func @" + name + "(" + kParams + extraParams + ") -> " + kResults + " {\n" +
         "  %hT, %cT, %hs = scan " + scanHead + " {\n" +
         "  ^body(%h: tensor<B x 4 x f32>, %c: tensor<B x 4 x f32>, %x: tensor<B x 3 x f32>):\n" +
         kLstmStep + "    yield %h2, %c2, %h2\n  } : " + kScanTypes +
         "\n  return %hT, %cT, %hs\n}\n";
}

/// The graphs, each with the matmuls of a block argument left after the pass and dce.
const std::string kGraphs =
    lstm("lstm", "", "carry(%h0, %c0) over(%xs)") +
    lstm("lstm_lengths", ", %len: tensor<B x i32>", "carry(%h0, %c0) over(%xs) lengths(%len)") +
    lstm("lstm_reverse", ", %len: tensor<B x i32>",
         "carry(%h0, %c0) over(%xs) lengths(%len) {reverse = 1}") +
    R"(
func @two_weights(%xs: tensor<T x B x 3 x f32>, %h0: tensor<B x 4 x f32>, %W: tensor<3 x 4 x f32>, %V: tensor<3 x 4 x f32>) -> (tensor<B x 4 x f32>, tensor<T x B x 4 x f32>) {
  %hT, %ps = scan carry(%h0) over(%xs) {reverse = 1} {
  ^body(%h: tensor<B x 4 x f32>, %x: tensor<B x 3 x f32>):
    %a = matmul %x, %W : tensor<B x 4 x f32>
    %v = matmul %x, %V : tensor<B x 4 x f32>
    %s = mul %a, %h : tensor<B x 4 x f32>
    %h2 = add %s, %v : tensor<B x 4 x f32>
    %t = tanh %h2 : tensor<B x 4 x f32>
    yield %t, %v
  } : tensor<B x 4 x f32>, tensor<T x B x 4 x f32>
  return %hT, %ps
}

func @nested(%xss: tensor<S x T x B x 3 x f32>, %h0: tensor<B x 4 x f32>, %W: tensor<3 x 4 x f32>) -> (tensor<B x 4 x f32>) {
  %hS = scan carry(%h0) over(%xss) {
  ^body(%ho: tensor<B x 4 x f32>, %xs: tensor<T x B x 3 x f32>):
    %hT = scan carry(%ho) over(%xs) {
    ^body(%h: tensor<B x 4 x f32>, %x: tensor<B x 3 x f32>):
      %xw = matmul %x, %W : tensor<B x 4 x f32>
      %h2 = add %h, %xw : tensor<B x 4 x f32>
      %t = tanh %h2 : tensor<B x 4 x f32>
      yield %t
    } : tensor<B x 4 x f32>
    yield %hT
  } : tensor<B x 4 x f32>
  return %hS
}
)";

struct Expect {
  const char *function;
  size_t stepMatmuls; // after the pass and dce
};
const Expect kExpected[] = {
    {"lstm", 1}, {"lstm_lengths", 1}, {"lstm_reverse", 1}, {"two_weights", 0}, {"nested", 0}};

const DimBindings kDims = {{"B", 3}, {"T", 5}, {"S", 2}};

std::unique_ptr<Module> parse(const std::string &text) {
  auto m = parseModule(text, "hoist.wir");
  REQUIRE_OK(m);
  return std::move(*m);
}

/// Integer inputs are lengths, in [0, T].
IntRange lengthRange() { return {0, *Dim::symbol("T").evaluate(kDims)}; }

std::vector<Array> seededInputs(const Function &f, unsigned seed) {
  return test::randomInputs(f, kDims, seed, lengthRange());
}

/// Same results before and after, bit for bit.
void checkSameResults(const Function &before, const Function &after) {
  test::checkSameResults(before, after, kDims, lengthRange());
}

/// How many matmuls in `f` multiply a block argument (a carry or a step) from the left.
size_t stepMatmuls(Function &f) {
  size_t n = 0;
  walk(f.body(), [&](Op &op) {
    n += op.kind() == OpKind::Matmul && op.operand(0)->isBlockArg() && op.parentOp() != nullptr;
  });
  return n;
}

} // namespace

TEST_CASE("hoist-input-projections keeps every LSTM result bit for bit on the reference "
          "interpreter") {
  auto before = parse(kGraphs);
  auto after = parse(kGraphs);
  auto hoist = createHoistInputProjectionsPass();
  auto dce = createDCEPass();
  CHECK(runPass(*hoist, *after));
  CHECK(runPass(*dce, *after));
  for (const Expect &e : kExpected) {
    std::string function = e.function;
    CAPTURE(function);
    Function *f0 = before->function(e.function);
    Function *f1 = after->function(e.function);
    REQUIRE(f0);
    REQUIRE(f1);
    CHECK(stepMatmuls(*f1) == e.stepMatmuls);
    CHECK(stepMatmuls(*f0) > e.stepMatmuls);
    checkSameResults(*f0, *f1);
  }
}

TEST_CASE("hoist-input-projections changes nothing the second time, before or after dce") {
  auto m = parse(kGraphs);
  auto hoist = createHoistInputProjectionsPass();
  REQUIRE(runPass(*hoist, *m));
  std::string once = print(*m);
  CHECK_FALSE(runPass(*hoist, *m)); // the dead step matmuls are not hoisted again
  CHECK(print(*m) == once);
  auto dce = createDCEPass();
  REQUIRE(runPass(*dce, *m));
  std::string clean = print(*m);
  CHECK_FALSE(runPass(*hoist, *m));
  CHECK(print(*m) == clean);
}

TEST_CASE("hoist-input-projections after autodiff keeps an LSTM's gradients bit for bit") {
  // After autodiff, where a training pipeline would run it. The forward scan projects x_t by W; the
  // backward scan reads stored residuals and multiplies only computed values (dz . W^T), which
  // stay.
  const std::string text = R"(
func @lstm_loss(%xs: tensor<T x B x 3 x f32>, %h0: tensor<B x 4 x f32>, %c0: tensor<B x 4 x f32>, %W: tensor<3 x 16 x f32>, %U: tensor<4 x 16 x f32>, %bias: tensor<16 x f32>, %len: tensor<B x i32>) -> (tensor<f32>) {
  %hT, %cT = scan carry(%h0, %c0) over(%xs) lengths(%len) {
  ^body(%h: tensor<B x 4 x f32>, %c: tensor<B x 4 x f32>, %x: tensor<B x 3 x f32>):
)" + kLstmStep + R"(    yield %h2, %c2
  } : tensor<B x 4 x f32>, tensor<B x 4 x f32>
  %sq = mul %hT, %hT : tensor<B x 4 x f32>
  %loss = reduce_sum %sq {axes = [0, 1]} : tensor<f32>
  return %loss
}
)";
  auto before = parse(text);
  std::ostringstream log;
  PassManager pm(log);
  REQUIRE(pm.addPipeline("canonicalize,autodiff,hoist-weight-gradients,licm,canonicalize").isOk());
  Status trained = pm.run(*before);
  REQUIRE_MESSAGE(trained.isOk(), trained.message());
  auto after = parse(print(*before));
  auto hoist = createHoistInputProjectionsPass();
  auto dce = createDCEPass();
  CHECK(runPass(*hoist, *after));
  runPass(*dce, *after);
  Function *f0 = before->function("lstm_loss_grad");
  Function *f1 = after->function("lstm_loss_grad");
  REQUIRE(f0);
  REQUIRE(f1);
  CHECK(stepMatmuls(*f1) + 1 == stepMatmuls(*f0)); // the forward x_t . W
  checkSameResults(*f0, *f1);
}

TEST_CASE("hoist-input-projections splits a joined [x, h] . W and keeps f64 LSTM results") {
  // Splitting the sum over the joined row into x's and h's parts rounds differently, so this
  // runs in f64: each pre-activation (at most 7 products of values in [-2, 2], below 28) moves
  // by a few roundings, about 1e-14, and five steps of the recurrence keep the outputs within
  // 1e-10. Slicing W at the wrong row moves them by O(1).
  const std::string step = testing::lstmStep(
      {.input = 3, .hidden = 4, .gates = testing::LstmGates::ConcatBias, .dtype = "f64"});
  const std::string text =
      "func @joined(%xs: tensor<T x B x 3 x f64>, %h0: tensor<B x 4 x f64>, %c0: tensor<B x 4 x "
      "f64>, %W: tensor<7 x 16 x f64>, %bias: tensor<16 x f64>, %len: tensor<B x i32>) -> "
      "(tensor<B x 4 x f64>, tensor<T x B x 4 x f64>) {\n"
      "  %hT, %cT, %hs = scan carry(%h0, %c0) over(%xs) lengths(%len) {\n"
      "  ^body(%h: tensor<B x 4 x f64>, %c: tensor<B x 4 x f64>, %x: tensor<B x 3 x f64>):\n" +
      step +
      "    yield %h2, %c2, %h2\n"
      "  } : tensor<B x 4 x f64>, tensor<B x 4 x f64>, tensor<T x B x 4 x f64>\n"
      "  return %hT, %hs\n}\n";
  auto before = parse(text);
  auto after = parse(text);
  auto hoist = createHoistInputProjectionsPass();
  auto dce = createDCEPass();
  CHECK(runPass(*hoist, *after));
  CHECK(runPass(*dce, *after));
  Function *f0 = before->function("joined");
  Function *f1 = after->function("joined");
  size_t hoisted = 0;
  walk(f1->body(),
       [&](Op &op) { hoisted += op.kind() == OpKind::Matmul && op.parentOp() == nullptr; });
  CHECK(countOps(*f1, OpKind::Concat) == 0);
  CHECK(hoisted == 1);
  for (unsigned seed : {1u, 2u}) {
    CAPTURE(seed);
    std::vector<Array> inputs = seededInputs(*f0, seed);
    auto want = reference::run(*f0, inputs, kDims);
    auto got = reference::run(*f1, inputs, kDims);
    REQUIRE_OK(want);
    REQUIRE_OK(got);
    for (size_t r = 0; r < want->size(); ++r)
      for (int64_t i = 0; i < (*want)[r].numel(); ++i)
        CHECK(std::abs((*want)[r].getDouble(i) - (*got)[r].getDouble(i)) <= 1e-10);
  }
}

} // namespace passes_HoistInputProjectionsTest
