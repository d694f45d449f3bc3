// Checkpointing (autodiff checkpoint=k) on scans with lengths and on T not a multiple of k:
// the IR after autodiff has the segment structure, and the gradients are full BPTT's.
#include "backends/reference/Interpreter.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/autodiff/Autodiff.h"
#include "runtime/Random.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/autodiff/SameValues.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace autodiff_CheckpointTest {

using namespace weft;
using weft::autodifftest::checkSame;

namespace {

/// A tanh RNN over T steps with lengths, forward or reverse; the loss reads every emitted
/// state and the final state.
std::string maskedRnn(int64_t T, bool reverse) {
  return fmt::format(
      R"(func @rnn(%xs: tensor<{0} x 3 x 2 x f64>, %W: tensor<2 x 2 x f64>, %h0: tensor<3 x 2 x f64>, %len: tensor<3 x i64>) -> (tensor<f64>) {{
  %hT, %hs = scan carry(%h0) over(%xs) lengths(%len){1} {{
  ^body(%h: tensor<3 x 2 x f64>, %x: tensor<3 x 2 x f64>):
    %m = matmul %h, %W : tensor<3 x 2 x f64>
    %s = add %m, %x : tensor<3 x 2 x f64>
    %h2 = tanh %s : tensor<3 x 2 x f64>
    yield %h2, %h2
  }} : tensor<3 x 2 x f64>, tensor<{0} x 3 x 2 x f64>
  %sq = mul %hs, %hs : tensor<{0} x 3 x 2 x f64>
  %l1 = reduce_sum %sq {{axes = [0, 1, 2]}} : tensor<f64>
  %l2 = reduce_sum %hT {{axes = [0, 1]}} : tensor<f64>
  %l = add %l1, %l2 : tensor<f64>
  return %l
}}
)",
      T, reverse ? " {reverse = 1}" : "");
}

struct Gradient {
  std::string ir; // the gradient function as printed
  std::vector<Array> values;
};

/// The gradient of `text`'s function w.r.t. W, xs and h0 with `checkpoint`, run on the
/// interpreter; lengths {T, 2, 0}: a full example, a short one and an empty one.
Gradient gradient(const std::string &text, int64_t T, int64_t checkpoint) {
  auto m = ir::parseModule(text, "checkpoint.wir");
  REQUIRE_OK(m);
  autodiff::GradOptions options;
  options.wrt = {"W", "xs", "h0"};
  options.checkpointEvery = checkpoint;
  auto g = autodiff::buildGradient(**m, *(*m)->functions().front(), options);
  REQUIRE_OK(g);
  Status ok = ir::verify(**m);
  REQUIRE_MESSAGE(ok.isOk(), std::string(ok.message() + "\n" + ir::print(**m)));
  std::vector<Array> in{Array(DType::F64, {T, 3, 2}), Array(DType::F64, {2, 2}),
                        Array(DType::F64, {3, 2})};
  for (size_t i = 0; i < in.size(); ++i)
    for (int64_t k = 0; k < in[i].numel(); ++k)
      in[i].setDouble(k, 2.0 * random::uniformF64(static_cast<int64_t>(i) + 5, k) - 1.0);
  in.push_back(Array::of<int64_t>({3}, {T, 2, 0}));
  auto out = reference::run(**g, in);
  REQUIRE_OK(out);
  return {ir::print(**g), std::move(*out)};
}

bool has(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("checkpointing a scan with lengths segments its mask and stacks only segment carries") {
  std::string rnn = maskedRnn(6, /*reverse=*/false);
  Gradient full = gradient(rnn, 6, 0), every3 = gradient(rnn, 6, 3);
  checkSame(every3.values, full.values);
  CAPTURE(every3.ir);
  // The mask t < len[b] is a sequence of the segment scan, 2 segments of 3 steps...
  CHECK(has(every3.ir, "reshape %2 : tensor<2 x 3 x 3 x i1>"));
  CHECK(has(every3.ir, "^body(%h_seg: tensor<3 x 2 x f64>, %x_seg: tensor<3 x 3 x 2 x f64>, "
                       "%mask_seg: tensor<3 x 3 x i1>):"));
  // ...whose recomputation masks as the forward does, and the forward stacks the carries of 2
  // segments (not of 6 steps) for the reverse sweep.
  CHECK(has(every3.ir, "} : tensor<3 x 2 x f64>, tensor<2 x 3 x 3 x 2 x f64>, "
                       "tensor<2 x 3 x 2 x f64>\n"));
  CHECK_FALSE(has(full.ir, "_seg"));
}

TEST_CASE("checkpointing a scan over T not a multiple of k adds a shorter last segment") {
  for (bool reverse : {false, true}) {
    CAPTURE(reverse);
    std::string rnn = maskedRnn(7, reverse);
    Gradient full = gradient(rnn, 7, 0), every3 = gradient(rnn, 7, 3);
    checkSame(every3.values, full.values);
    CAPTURE(every3.ir);
    // 2 segments of 3 steps, and a scan over the 7th step (run first by a reverse scan).
    CHECK(has(every3.ir, "%x_seg: tensor<3 x 3 x 2 x f64>"));
    CHECK(has(every3.ir, "slice %xs {axis = 0, limit = 7, start = 6} : tensor<1 x 3 x 2 x f64>"));
    CHECK(has(every3.ir, "^body(%h_tail: tensor<3 x 2 x f64>, %x_tail: tensor<3 x 2 x f64>"));
    size_t tail = every3.ir.find("%h_tail"), seg = every3.ir.find("%h_seg");
    CHECK((tail < seg) == reverse);
  }
}

TEST_CASE("checkpointing refuses a scan over a symbolic number of steps, naming it") {
  auto m =
      ir::parseModule(R"(func @f(%xs: tensor<T x 2 x f64>, %h0: tensor<2 x f64>) -> (tensor<f64>) {
  %hT = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<2 x f64>, %x: tensor<2 x f64>):
    %h2 = add %h, %x : tensor<2 x f64>
    yield %h2
  } : tensor<2 x f64>
  %l = reduce_sum %hT {axes = [0]} : tensor<f64>
  return %l
}
)",
                      "symbolic.wir");
  REQUIRE(m.isOk());
  autodiff::GradOptions options;
  options.checkpointEvery = 4;
  auto g = autodiff::buildGradient(**m, *(*m)->functions().front(), options);
  REQUIRE_FALSE(g.isOk());
  CHECK(g.diag().str() == "symbolic.wir:2:3: autodiff: checkpoint=4 segments scans over a "
                          "static number of steps; this scan runs over T steps (make it static "
                          "or leave checkpoint off)");
}

} // namespace autodiff_CheckpointTest
