//===- tests/unit/cpu/GruRnnSequenceTest.cpp - fuse-gru and fuse-rnn on and off ===//
//
// GRU cells in PyTorch's form (GruIr.h) and Cho et al.'s ([x, r * h] W_n), tanh and relu RNN
// cells, in seeded random sizes (odd ones, T = 1, B = 1), with and without lengths and
// reverse: the module after fuse-gru / fuse-rnn (one fused op, run by the interpreter's own
// kernel and by the cpu backend) against the scan it replaced, outputs and the gradients
// autodiff builds, and those gradients against central differences of the fused kernel. f64
// throughout, so the bounds are tight.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "ir/Walk.h"
#include "tests/unit/GruIr.h"

#include <fmt/format.h>

namespace cpu_GruRnnSequenceTest {

using namespace weft;
using namespace weft::cputest;

namespace {

enum class Cell { GruPyTorch, GruCho, RnnTanh, RnnRelu };

struct Case {
  Cell cell;
  int64_t input, hidden, batch, steps;
  bool lengths, reverse;
};

// T = 1 and B = 1 for each kind of cell, odd sizes, I = 1, H = 1, lengths and reverse.
const Case kCases[] = {
    {Cell::GruPyTorch, 5, 3, 4, 7, true, true}, {Cell::GruCho, 3, 2, 1, 1, false, false},
    {Cell::GruCho, 7, 5, 3, 4, true, false},    {Cell::GruCho, 1, 4, 2, 5, false, true},
    {Cell::RnnTanh, 6, 1, 3, 6, true, true},    {Cell::RnnRelu, 5, 4, 2, 5, true, false},
    {Cell::RnnRelu, 2, 3, 1, 1, false, true},
};

bool isGru(Cell c) { return c == Cell::GruPyTorch || c == Cell::GruCho; }

/// One GRU step in Cho et al.'s form for a body with %h (B x H), %x (B x I) and weights %Wrz
/// ((I+H) x 2H), %brz (2H), %Wn ((I+H) x H), %bn (H); defines %h2.
std::string choStep(int64_t i, int64_t h) {
  return fmt::format("    %xh = concat %x, %h {{axis = 1}} : tensor<B x {0} x f64>\n"
                     "    %g = matmul %xh, %Wrz : tensor<B x {1} x f64>\n"
                     "    %bb = broadcast %brz {{dims = [1]}} : tensor<B x {1} x f64>\n"
                     "    %gb = add %g, %bb : tensor<B x {1} x f64>\n"
                     "    %rz = sigmoid %gb : tensor<B x {1} x f64>\n"
                     "    %r = slice %rz {{axis = 1, limit = {2}, start = 0}} : {3}\n"
                     "    %z = slice %rz {{axis = 1, limit = {1}, start = {2}}} : {3}\n"
                     "    %rh = mul %r, %h : {3}\n"
                     "    %xrh = concat %x, %rh {{axis = 1}} : tensor<B x {0} x f64>\n"
                     "    %an = matmul %xrh, %Wn : {3}\n"
                     "    %bnb = broadcast %bn {{dims = [1]}} : {3}\n"
                     "    %anb = add %an, %bnb : {3}\n"
                     "    %n = tanh %anb : {3}\n"
                     "    %d = sub %h, %n : {3}\n"
                     "    %zd = mul %z, %d : {3}\n"
                     "    %h2 = add %n, %zd : {3}\n",
                     i + h, 2 * h, h, fmt::format("tensor<B x {} x f64>", h));
}

/// One RNN step: %h2 = act(x . %Wi + %bi + h . %Wh + %bh).
std::string rnnStep(int64_t h, bool relu) {
  return fmt::format("    %xw = matmul %x, %Wi : {0}\n"
                     "    %bib = broadcast %bi {{dims = [1]}} : {0}\n"
                     "    %xa = add %xw, %bib : {0}\n"
                     "    %hw = matmul %h, %Wh : {0}\n"
                     "    %bhb = broadcast %bh {{dims = [1]}} : {0}\n"
                     "    %ha = add %hw, %bhb : {0}\n"
                     "    %a = add %xa, %ha : {0}\n"
                     "    %h2 = {1} %a : {0}\n",
                     fmt::format("tensor<B x {} x f64>", h), relu ? "relu" : "tanh");
}

/// @cell(params) -> (hT, hs) and @loss(params, %R) -> reduce_sum(hs * R) + reduce_sum(hT).
std::string cellModule(const Case &c) {
  const int64_t i = c.input, h = c.hidden, g = isGru(c.cell) ? 3 : 1;
  std::string weights, step;
  auto mat = [](const char *name, int64_t rows, int64_t cols) {
    return fmt::format(", %{}: tensor<{} x {} x f64>", name, rows, cols);
  };
  auto vec = [](const char *name, int64_t n) {
    return fmt::format(", %{}: tensor<{} x f64>", name, n);
  };
  switch (c.cell) {
  case Cell::GruCho:
    weights = mat("Wrz", i + h, 2 * h) + vec("brz", 2 * h) + mat("Wn", i + h, h) + vec("bn", h);
    step = choStep(i, h);
    break;
  case Cell::GruPyTorch:
  case Cell::RnnTanh:
  case Cell::RnnRelu:
    weights = mat("Wi", i, g * h) + mat("Wh", h, g * h) + vec("bi", g * h) + vec("bh", g * h);
    step = isGru(c.cell) ? testing::gruStep({i, h, "f64"}) : rnnStep(h, c.cell == Cell::RnnRelu);
    break;
  }
  std::string params = fmt::format("%xs: tensor<T x B x {} x f64>, %h0: tensor<B x {} x f64>{}{}",
                                   i, h, weights, c.lengths ? ", %len: tensor<B x i64>" : "");
  std::string bh = fmt::format("tensor<B x {} x f64>", h);
  std::string ths = fmt::format("tensor<T x B x {} x f64>", h);
  std::string scan =
      fmt::format("  %hT, %hs = scan carry(%h0) over(%xs){}{} {{\n",
                  c.lengths ? " lengths(%len)" : "", c.reverse ? " {reverse = 1}" : "") +
      fmt::format("  ^body(%h: {}, %x: tensor<B x {} x f64>):\n", bh, i) + step +
      "    yield %h2, %h2\n" + fmt::format("  }} : {}, {}\n", bh, ths);
  return fmt::format("func @cell({0}) -> ({1}, {2}) {{\n{3}  return %hT, %hs\n}}\n"
                     "func @loss({0}, %R: {2}) -> (tensor<f64>) {{\n{3}"
                     "  %p = mul %hs, %R : {2}\n"
                     "  %l1 = reduce_sum %p {{axes = [0, 1, 2]}} : tensor<f64>\n"
                     "  %l2 = reduce_sum %hT {{axes = [0, 1]}} : tensor<f64>\n"
                     "  %l = add %l1, %l2 : tensor<f64>\n"
                     "  return %l\n}}\n",
                     params, bh, ths, scan);
}

ir::OpKind fusedKind(const Case &c) {
  return isGru(c.cell) ? ir::OpKind::GruSequence : ir::OpKind::RnnSequence;
}
ir::OpKind fusedGradKind(const Case &c) {
  return isGru(c.cell) ? ir::OpKind::GruSequenceGrad : ir::OpKind::RnnSequenceGrad;
}
const char *fusePipeline(const Case &c) { return isGru(c.cell) ? "fuse-gru,dce" : "fuse-rnn,dce"; }

int countOps(ir::Module &m, ir::OpKind kind) {
  int n = 0;
  for (auto &f : m.functions())
    ir::walk(f->body(), [&](ir::Op &op) { n += op.kind() == kind; });
  return n;
}

std::unique_ptr<ir::Module> parsed(const std::string &text) {
  auto m = ir::parseModule(text);
  REQUIRE_OK(m);
  return std::move(*m);
}

/// Seeded inputs for `f`: lengths in [0, T].
std::vector<Array> inputsFor(const ir::Function &f, const Case &c, const ir::DimBindings &dims,
                             uint64_t seed) {
  std::map<size_t, ParamGen> gens;
  for (size_t p = 0; p < f.numParams(); ++p)
    if (f.param(p)->name() == "len")
      gens[p] = {Gen::Index, c.steps + 1};
  return randomInputs(f, dims, gens, seed);
}

/// The bound for two f64 evaluations of the same T-step recurrence summed in different orders.
Tolerance recurrenceTolerance(const Case &c) {
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

void capture(const Case &c) {
  CAPTURE(static_cast<int>(c.cell));
  CAPTURE(c.input);
  CAPTURE(c.hidden);
  CAPTURE(c.batch);
  CAPTURE(c.steps);
  CAPTURE(c.lengths);
  CAPTURE(c.reverse);
}

} // namespace

TEST_CASE("fuse-gru, fuse-rnn: the fused op matches the scan it replaces, interpreter and cpu") {
  uint64_t seed = 23;
  for (const Case &c : kCases) {
    INFO(cellModule(c));
    capture(c);
    std::string text = cellModule(c);
    auto unfused = parsed(text), fused = parsed(text);
    runPipeline(*fused, fusePipeline(c));
    REQUIRE(countOps(*fused, fusedKind(c)) == 2);
    ir::DimBindings dims{{"T", c.steps}, {"B", c.batch}};
    std::vector<Array> in = inputsFor(*unfused->function("cell"), c, dims, ++seed);
    std::vector<Array> want = interpret(*unfused, "cell", in, dims);
    std::vector<Array> got = interpret(*fused, "cell", in, dims);
    REQUIRE(got.size() == 2);
    for (size_t r = 0; r < 2; ++r) {
      CAPTURE(r);
      checkClose(got[r], want[r], recurrenceTolerance(c));
    }
    // The cpu backend runs the fused module and agrees with the interpreter's kernel.
    Compiled compiled = compileModule(std::move(fused));
    checkTargets(compiled, "cell", in, dims, got, recurrenceTolerance(c));
  }
}

TEST_CASE("fuse-gru, fuse-rnn: gradients through the fused op match those through the scan") {
  uint64_t seed = 211;
  for (const Case &c : kCases) {
    capture(c);
    std::string text = cellModule(c);
    auto unfused = parsed(text), fused = parsed(text);
    runPipeline(*unfused, "autodiff");
    runPipeline(*fused, std::string(fusePipeline(c)) + ",autodiff");
    // @cell and @loss keep theirs, and @loss_grad runs the fused forward too.
    REQUIRE(countOps(*fused, fusedKind(c)) == 3);
    // The gradient is the fused op's own (gru_sequence_grad / rnn_sequence_grad), not BPTT of
    // the scan it stands for.
    CHECK(countOps(*fused, fusedGradKind(c)) == 1);
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

TEST_CASE("gru_sequence, rnn_sequence: gradients match central differences of their kernels") {
  // The fused ops' own kernels as the function, so the check does not go through a scan.
  const Case cases[] = {{Cell::GruPyTorch, 3, 2, 2, 3, true, true},
                        {Cell::GruCho, 2, 3, 2, 3, true, false},
                        {Cell::RnnTanh, 3, 2, 2, 3, true, true}};
  for (const Case &c : cases) {
    capture(c);
    auto m = parsed(cellModule(c));
    runPipeline(*m, std::string(fusePipeline(c)) + ",autodiff");
    REQUIRE(countOps(*m, fusedKind(c)) == 3);
    REQUIRE(countOps(*m, fusedGradKind(c)) == 1);
    ir::DimBindings dims{{"T", c.steps}, {"B", c.batch}};
    std::vector<Array> in = inputsFor(*m->function("loss"), c, dims, 7);
    std::vector<Array> grads = interpret(*m, "loss_grad", in, dims);
    const double eps = 1e-6;
    size_t g = 0; // grads[0] is the loss; each float parameter's gradient follows in order
    for (size_t p = 0; p < in.size(); ++p) {
      if (!isFloat(in[p].dtype()))
        continue;
      ++g;
      CAPTURE(p);
      for (int64_t e = 0; e < in[p].numel(); e += 2) {
        CAPTURE(e);
        std::vector<Array> plus = in, minus = in;
        plus[p].setDouble(e, in[p].getDouble(e) + eps);
        minus[p].setDouble(e, in[p].getDouble(e) - eps);
        double lp = interpret(*m, "loss", plus, dims)[0].getDouble(0);
        double lm = interpret(*m, "loss", minus, dims)[0].getDouble(0);
        double fd = (lp - lm) / (2 * eps);
        CHECK(std::fabs(grads[g].getDouble(e) - fd) <= 1e-6 * (1 + std::fabs(fd)));
      }
    }
  }
}

} // namespace cpu_GruRnnSequenceTest
