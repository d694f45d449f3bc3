//===- tests/unit/cpu/LstmAttentionPackTest.cpp - a decoder step's weights packed once ===//
//
// lstm_attention_step reads its weights (wx, wh, wq where Bahdanau's, wa) from column strips
// (backends/cpu/LstmAttentionStepKernel.h). In a scan or while body, where all of them come
// from outside the loop, the loop packs them once before its first trip and the step packs
// nothing (backends/cpu/Prepack.h); where one is computed in the body, or the step is in no
// loop, the step packs them on every call. Each case against the interpreter, at odd sizes
// (4H = 20, N = 19: a strip's zero-padded tail) and batches past the kernel's chunk of 24 rows.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "backends/cpu/Prepack.h"
#include "backends/cpu/Scratch.h"

#include <fmt/format.h>

namespace weft::cputest::cpu_LstmAttentionPackTest {
namespace {

/// The step's operands and result types (I 3, H 5, A 7, D 3, N 19; B and S symbols) in `dt`.
struct StepText {
  std::string params, operands, results, attr;
};

StepText stepText(const std::string &dt, bool luong) {
  auto T = [&](const std::string &dims) { return fmt::format("tensor<{} x {}>", dims, dt); };
  StepText s;
  s.params =
      fmt::format("%wx: {}, %wh: {}, %b: {}, {}%kp: {}, %v: {}, %mem: {}, %wa: {}", T("3 x 20"),
                  T("5 x 20"), T("20"), luong ? "" : fmt::format("%wq: {}, ", T("5 x 7")),
                  T(luong ? "B x S x 5" : "B x S x 7"),
                  luong ? fmt::format("tensor<{}>", dt) : T("7"), T("B x S x 3"), T("8 x 19"));
  s.operands = fmt::format("%wx, %wh, %b, {}%kp, %v, %mem", luong ? "" : "%wq, ");
  s.results = fmt::format("{0}, {0}, {1}, {2}", T("B x 5"), T("B x 19"), T("B x S"));
  s.attr = luong ? " {luong = 1}" : "";
  return s;
}

/// @f: a scan over xs [T, B, 3] of one step; wa from the parameter, or (waInBody) its negation
/// computed in the body.
std::string scanText(const std::string &dt, bool luong, bool waInBody) {
  StepText s = stepText(dt, luong);
  std::string bx = fmt::format("tensor<B x 5 x {}>", dt);
  std::string stacked =
      fmt::format("{0}, {0}, tensor<T x B x 19 x {1}>, tensor<T x B x S x {1}>", bx, dt);
  std::string wa = waInBody ? "%wa2" : "%wa";
  std::string neg =
      waInBody ? fmt::format("    %wa2 = neg %wa : tensor<8 x 19 x {}>\n", dt) : std::string();
  return fmt::format("func @f(%xs: tensor<T x B x 3 x {0}>, %h0: {1}, %c0: {1}, {2}) -> ({3}) {{\n"
                     "  %hT, %cT, %as, %al = scan carry(%h0, %c0) over(%xs) {{\n"
                     "  ^body(%h: {1}, %c: {1}, %x: tensor<B x 3 x {0}>):\n{4}"
                     "    %h2, %c2, %a2, %p = lstm_attention_step %x, %h, %c, {5}, {6}{7} : {8}\n"
                     "    yield %h2, %c2, %a2, %p\n"
                     "  }} : {3}\n"
                     "  return %hT, %cT, %as, %al\n}}\n",
                     dt, bx, s.params, stacked, neg, s.operands, wa, s.attr, s.results);
}

/// @f: a greedy-style while of at most 3 trips (every row finishes after the second) of one
/// step whose attention vector is the next input (N = 19 read back as x needs I = 19: the
/// step's x is the carried att instead, so wx is 19 x 20).
std::string whileText(const std::string &dt, bool luong) {
  StepText s = stepText(dt, luong);
  std::string bx = fmt::format("tensor<B x 5 x {}>", dt),
              ba = fmt::format("tensor<B x 19 x {}>", dt);
  std::string params = s.params;
  params.replace(params.find("3 x 20"), 6, "19 x 20");
  std::string stacked =
      fmt::format("tensor<B x i1>, tensor<B x i64>, {0}, {0}, {1}, "
                  "tensor<3 x B x 19 x {2}>, tensor<3 x B x S x {2}>, tensor<i64>",
                  bx, ba, dt);
  return fmt::format(
      "func @f(%f0: tensor<B x i1>, %h0: {0}, %c0: {0}, %a0: {1}, {2}) -> ({0}, {1}, "
      "tensor<3 x B x 19 x {3}>, tensor<3 x B x S x {3}>) {{\n"
      "  %one = constant {{value = [1]}} : tensor<i64>\n"
      "  %zero = constant {{value = [0]}} : tensor<i64>\n"
      "  %n0 = broadcast %zero {{dims = []}} : tensor<B x i64>\n"
      "  %fin, %k, %hT, %cT, %aT, %as, %al, %trips = while finished(%f0) carry(%n0, %h0, %c0, "
      "%a0) {{max_trips = 3}} {{\n"
      "  ^body(%n: tensor<B x i64>, %h: {0}, %c: {0}, %x: {1}):\n"
      "    %h2, %c2, %a2, %p = lstm_attention_step %x, %h, %c, {4}, %wa{5} : {6}\n"
      "    %ones = broadcast %one {{dims = []}} : tensor<B x i64>\n"
      "    %n2 = add %n, %ones : tensor<B x i64>\n"
      "    %done = gt %n2, %ones : tensor<B x i1>\n"
      "    yield %done, %n2, %h2, %c2, %a2, %a2, %p\n"
      "  }} : {7}\n"
      "  return %hT, %aT, %as, %al\n}}\n",
      bx, ba, params, dt, s.operands, s.attr, s.results, stacked);
}

const ir::Op &firstLoop(const ir::Function &f) {
  for (const auto &op : f.body().ops())
    if (op->kind() == ir::OpKind::Scan || op->kind() == ir::OpKind::While)
      return *op;
  FAIL("no loop");
  return *f.body().ops().front();
}

const ir::Op &stepIn(const ir::Op &loop) {
  for (const auto &op : loop.region().ops())
    if (op->kind() == ir::OpKind::LstmAttentionStep)
      return *op;
  FAIL("no step");
  return loop;
}

/// The step's magnitudes: sums of at most 27 products of values below 2 (gates, scores,
/// attention vector) through a few gate functions.
Tolerance stepTolerance() { return Tolerance::chain(64, 60); }

void checkSizes(const Compiled &c, bool scan) {
  for (auto [B, S] : {std::pair<int64_t, int64_t>{1, 1}, {5, 4}, {30, 3}}) {
    CAPTURE(B);
    CAPTURE(S);
    ir::DimBindings dims = {{"B", B}, {"S", S}};
    if (scan)
      dims["T"] = 3;
    checkParity(c, "f", dims, stepTolerance(), {}, 5);
  }
}

} // namespace

TEST_CASE("cpu: a scan's lstm_attention_step reads weights its loop packed once") {
  for (bool luong : {false, true})
    for (const char *dt : {"f32", "f64"}) {
      CAPTURE(luong);
      CAPTURE(dt);
      Compiled c = compileText(scanText(dt, luong, false));
      const ir::Op &loop = firstLoop(*c.module->function("f"));
      REQUIRE(cpu::stepsPackedBeforeLoop(loop).size() == 1);
      // The strips are the loop's scratch, after nothing (no matmul in the body); the step has
      // none of its own.
      auto scratch = cpu::scratchModel(32);
      CHECK(scratch(loop).size() == (luong ? 3u : 4u));
      CHECK(scratch(stepIn(loop)).empty());
      checkSizes(c, true);
    }
}

TEST_CASE("cpu: a while's lstm_attention_step reads weights its loop packed once") {
  for (bool luong : {false, true}) {
    CAPTURE(luong);
    Compiled c = compileText(whileText("f32", luong));
    REQUIRE(cpu::stepsPackedBeforeLoop(firstLoop(*c.module->function("f"))).size() == 1);
    checkSizes(c, false);
  }
}

TEST_CASE("cpu: an lstm_attention_step with a weight computed in its loop packs on every call") {
  for (bool luong : {false, true}) {
    CAPTURE(luong);
    Compiled c = compileText(scanText("f32", luong, true));
    const ir::Op &loop = firstLoop(*c.module->function("f"));
    CHECK(cpu::stepsPackedBeforeLoop(loop).empty());
    CHECK(cpu::scratchModel(32)(stepIn(loop)).size() == (luong ? 3u : 4u));
    checkSizes(c, true);
  }
}

} // namespace weft::cputest::cpu_LstmAttentionPackTest
