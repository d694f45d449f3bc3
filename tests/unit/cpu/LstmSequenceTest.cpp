//===- tests/unit/cpu/LstmSequenceTest.cpp - fuse-lstm on and off ---------===//
//
// Every form of the cell LstmIr.h writes, in seeded random sizes (odd ones, T = 1, B = 1),
// with and without lengths and reverse: the module after fuse-lstm (one lstm_sequence, run by
// the interpreter's own kernel and by the cpu backend) against the scan it replaced, outputs
// and the gradients autodiff builds (one lstm_sequence_grad against BPTT of the scan). f64
// throughout, so the bounds are tight.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "ir/Printer.h"
#include "ir/Walk.h"

#include <fmt/format.h>

namespace cpu_LstmSequenceTest {

using namespace weft;
using namespace weft::cputest;
using weft::testing::LstmGates;

namespace {

struct SequenceCase {
  int64_t input, hidden, batch, steps;
  LstmGates gates;
  bool lengths, reverse;
};

const SequenceCase kSequenceCases[] = {
    {3, 2, 1, 1, LstmGates::Separate, false, false},
    {5, 3, 4, 7, LstmGates::ConcatBias, true, false},
    {7, 5, 3, 4, LstmGates::Concat, false, true},
    {4, 4, 5, 6, LstmGates::Separate, true, true},
    {1, 7, 2, 3, LstmGates::ConcatBias, true, true},
    {6, 1, 3, 1, LstmGates::Concat, true, false},
};

/// @lstm(params) -> (hT, cT, hs) and @loss(params, %R) -> reduce_sum(hs * R) + reduce_sum(cT).
std::string lstmModule(const SequenceCase &c) {
  const int64_t i = c.input, h = c.hidden;
  std::string weights;
  switch (c.gates) {
  case LstmGates::Separate:
    weights = fmt::format("%W: tensor<{} x {} x f64>, %U: tensor<{} x {} x f64>, "
                          "%bias: tensor<{} x f64>",
                          i, 4 * h, h, 4 * h, 4 * h);
    break;
  case LstmGates::ConcatBias:
    weights =
        fmt::format("%W: tensor<{} x {} x f64>, %bias: tensor<{} x f64>", i + h, 4 * h, 4 * h);
    break;
  case LstmGates::Concat:
    weights = fmt::format("%W: tensor<{} x {} x f64>", i + h, 4 * h);
    break;
  }
  std::string params = fmt::format("%xs: tensor<T x B x {} x f64>, %h0: tensor<B x {} x f64>, "
                                   "%c0: tensor<B x {} x f64>, {}{}",
                                   i, h, h, weights, c.lengths ? ", %len: tensor<B x i64>" : "");
  std::string bh = fmt::format("tensor<B x {} x f64>", h);
  std::string scan =
      fmt::format("  %hT, %cT, %hs = scan carry(%h0, %c0) over(%xs){}{} {{\n",
                  c.lengths ? " lengths(%len)" : "", c.reverse ? " {reverse = 1}" : "") +
      fmt::format("  ^body(%h: {0}, %c: {0}, %x: tensor<B x {1} x f64>):\n", bh, i) +
      testing::lstmStep({i, h, c.gates, "f64"}) + "    yield %h2, %c2, %h2\n" +
      fmt::format("  }} : {0}, {0}, tensor<T x B x {1} x f64>\n", bh, h);
  std::string ths = fmt::format("tensor<T x B x {} x f64>", h);
  return fmt::format("func @lstm({0}) -> ({1}, {1}, {2}) {{\n{3}  return %hT, %cT, %hs\n}}\n"
                     "func @loss({0}, %R: {2}) -> (tensor<f64>) {{\n{3}"
                     "  %p = mul %hs, %R : {2}\n"
                     "  %l1 = reduce_sum %p {{axes = [0, 1, 2]}} : tensor<f64>\n"
                     "  %l2 = reduce_sum %cT {{axes = [0, 1]}} : tensor<f64>\n"
                     "  %l = add %l1, %l2 : tensor<f64>\n"
                     "  return %l\n}}\n",
                     params, bh, ths, scan);
}

int countOps(ir::Module &m, ir::OpKind kind) {
  int n = 0;
  for (auto &f : m.functions())
    ir::walk(f->body(), [&](ir::Op &op) { n += op.kind() == kind; });
  return n;
}

int countLstmSequences(ir::Module &m) { return countOps(m, ir::OpKind::LstmSequence); }

std::unique_ptr<ir::Module> parsed(const std::string &text) {
  auto m = ir::parseModule(text);
  REQUIRE_OK(m);
  return std::move(*m);
}

/// Seeded inputs for `f`: lengths in [0, T].
std::vector<Array> inputsFor(const ir::Function &f, const SequenceCase &c,
                             const ir::DimBindings &dims, uint64_t seed) {
  std::map<size_t, ParamGen> gens;
  for (size_t p = 0; p < f.numParams(); ++p)
    if (f.param(p)->name() == "len")
      gens[p] = {Gen::Index, c.steps + 1};
  return randomInputs(f, dims, gens, seed);
}

/// The bound for two f64 evaluations of the same T-step recurrence summed in different orders.
Tolerance recurrenceTolerance(const SequenceCase &c) {
  return Tolerance::sum(8 * (c.input + c.hidden + 2) * c.steps, 64.0 * (c.input + c.hidden + 2));
}

std::vector<Array> interpret(const ir::Module &m, const std::string &fn,
                             const std::vector<Array> &in, const ir::DimBindings &dims) {
  const ir::Function *f = m.function(fn);
  REQUIRE(f);
  auto out = reference::run(*f, in, dims);
  REQUIRE_OK(out);
  return std::move(*out);
}

} // namespace

TEST_CASE("fuse-lstm: the fused op matches the scan it replaces, on the interpreter and the cpu") {
  uint64_t seed = 11;
  for (const SequenceCase &c : kSequenceCases) {
    CAPTURE(c.input);
    CAPTURE(c.hidden);
    CAPTURE(c.batch);
    CAPTURE(c.steps);
    CAPTURE(static_cast<int>(c.gates));
    CAPTURE(c.lengths);
    CAPTURE(c.reverse);
    std::string text = lstmModule(c);
    auto unfused = parsed(text), fused = parsed(text);
    runPipeline(*fused, "fuse-lstm,dce");
    REQUIRE(countLstmSequences(*fused) == 2);
    ir::DimBindings dims{{"T", c.steps}, {"B", c.batch}};
    std::vector<Array> in = inputsFor(*unfused->function("lstm"), c, dims, ++seed);
    std::vector<Array> want = interpret(*unfused, "lstm", in, dims);
    std::vector<Array> got = interpret(*fused, "lstm", in, dims);
    REQUIRE(got.size() == 3);
    for (size_t r = 0; r < 3; ++r) {
      CAPTURE(r);
      checkClose(got[r], want[r], recurrenceTolerance(c));
    }
    // The cpu backend runs the fused module and agrees with the interpreter's kernel.
    Compiled compiled = compileModule(std::move(fused));
    checkTargets(compiled, "lstm", in, dims, got, recurrenceTolerance(c));
  }
}

TEST_CASE("fuse-lstm: gradients through the fused op match those through the scan") {
  uint64_t seed = 101;
  for (const SequenceCase &c : kSequenceCases) {
    CAPTURE(c.input);
    CAPTURE(c.hidden);
    CAPTURE(c.steps);
    CAPTURE(static_cast<int>(c.gates));
    CAPTURE(c.lengths);
    CAPTURE(c.reverse);
    std::string text = lstmModule(c);
    auto unfused = parsed(text), fused = parsed(text);
    runPipeline(*unfused, "autodiff");
    runPipeline(*fused, "fuse-lstm,dce,autodiff");
    // @lstm and @loss keep theirs; @loss_grad runs the forward op and its fused VJP.
    REQUIRE(countLstmSequences(*fused) == 3);
    CHECK(countOps(*fused, ir::OpKind::LstmSequenceGrad) == 1);
    CHECK(countOps(*fused, ir::OpKind::Scan) == 0);
    ir::DimBindings dims{{"T", c.steps}, {"B", c.batch}};
    std::vector<Array> in = inputsFor(*unfused->function("loss"), c, dims, ++seed);
    std::vector<Array> want = interpret(*unfused, "loss_grad", in, dims);
    std::vector<Array> got = interpret(*fused, "loss_grad", in, dims);
    REQUIRE(got.size() == want.size());
    for (size_t r = 0; r < got.size(); ++r) {
      CAPTURE(r);
      checkClose(got[r], want[r], recurrenceTolerance(c));
    }
    Compiled compiled = compileModule(std::move(fused));
    checkTargets(compiled, "loss_grad", in, dims, got, recurrenceTolerance(c));
  }
}

TEST_CASE("lstm_sequence: its gradient (lstm_sequence_grad) matches central differences") {
  // The fused op's own kernel as the function, so the check does not go through a scan.
  for (const SequenceCase &c : {SequenceCase{3, 2, 2, 3, LstmGates::Separate, true, true},
                                SequenceCase{2, 3, 3, 2, LstmGates::Separate, false, false}}) {
    CAPTURE(c.lengths);
    auto m = parsed(lstmModule(c));
    runPipeline(*m, "fuse-lstm,dce,autodiff");
    REQUIRE(countOps(*m, ir::OpKind::LstmSequenceGrad) == 1);
    ir::DimBindings dims{{"T", c.steps}, {"B", c.batch}};
    std::vector<Array> in = inputsFor(*m->function("loss"), c, dims, 7);
    std::vector<Array> grads = interpret(*m, "loss_grad", in, dims);
    const double eps = 1e-6;
    for (size_t p = 0; p < in.size(); ++p) {
      if (!isFloat(in[p].dtype()))
        continue;
      CAPTURE(p);
      for (int64_t e = 0; e < in[p].numel(); e += 2) {
        CAPTURE(e);
        std::vector<Array> plus = in, minus = in;
        plus[p].setDouble(e, in[p].getDouble(e) + eps);
        minus[p].setDouble(e, in[p].getDouble(e) - eps);
        double lp = interpret(*m, "loss", plus, dims)[0].getDouble(0);
        double lm = interpret(*m, "loss", minus, dims)[0].getDouble(0);
        double fd = (lp - lm) / (2 * eps);
        // grads[0] is the loss; the gradient of parameter p follows (len has none, but it is
        // the last parameter before %R, which does).
        size_t g = 1 + p - (c.lengths && p > 5 ? 1 : 0);
        CHECK(std::fabs(grads[g].getDouble(e) - fd) <= 1e-6 * (1 + std::fabs(fd)));
      }
    }
  }
}

} // namespace cpu_LstmSequenceTest
