// Every pass and pipeline keeps what scans with `lengths` compute (issue 16): each program
// below runs through each registered pass and each pipeline alias, and the reference
// interpreter compares every function before and after on lengths all 0, all T, mixed, and
// on T = 0. The passes and pipelines come from the registry, so a new one is checked too.
//
// Results are the same bits, except after hoist-weight-gradients (alone or in a pipeline):
// its one GEMM over all steps sums the products in another order than the loop's per-step
// adds. Everything is f64, and those compare within 1e-12 relative to max(1, |value|): the
// sums have at most T*B = 12 products of values below ~20, so the reordering moves them by a
// few roundings (~1e-14), while a padded step counted, or a step dropped, moves them by O(1).
//
// A gradient function (@<name>_grad, added by autodiff) is compared with the same function
// made by autodiff alone, the program before the passes that follow it.
#include "PassTestUtil.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"
#include "tests/unit/LstmIr.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

namespace passes_ScanLengthsPassTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

const std::string kMaskedLstmStep = testing::lstmStep(
    {.input = 3, .hidden = 4, .gates = testing::LstmGates::Separate, .dtype = "f64"});

/// Each function's first result is a scalar loss, so that autodiff differentiates it.
const std::string kPrograms = R"(
func @lstm(%xs: tensor<T x B x 3 x f64>, %h0: tensor<B x 4 x f64>, %c0: tensor<B x 4 x f64>, %W: tensor<3 x 16 x f64>, %U: tensor<4 x 16 x f64>, %bias: tensor<16 x f64>, %len: tensor<B x i32>) -> (tensor<f64>, tensor<B x 4 x f64>, tensor<B x 4 x f64>, tensor<T x B x 4 x f64>) {
  %hT, %cT, %hs = scan carry(%h0, %c0) over(%xs) lengths(%len) {
  ^body(%h: tensor<B x 4 x f64>, %c: tensor<B x 4 x f64>, %x: tensor<B x 3 x f64>):
)" + kMaskedLstmStep + R"(    yield %h2, %c2, %h2
  } : tensor<B x 4 x f64>, tensor<B x 4 x f64>, tensor<T x B x 4 x f64>
  %sq = mul %hs, %hs : tensor<T x B x 4 x f64>
  %loss = reduce_sum %sq {axes = [0, 1, 2]} : tensor<f64>
  return %loss, %hT, %cT, %hs
}

func @weight_grad(%xs: tensor<T x B x B x f64>, %ys: tensor<T x B x 5 x f64>, %a0: tensor<B x 5 x f64>, %len: tensor<B x i32>) -> (tensor<f64>, tensor<B x 5 x f64>) {
  %aT = scan carry(%a0) over(%xs, %ys) lengths(%len) {
  ^body(%a: tensor<B x 5 x f64>, %x: tensor<B x B x f64>, %y: tensor<B x 5 x f64>):
    %xt = transpose %x {perm = [1, 0]} : tensor<B x B x f64>
    %m = matmul %xt, %y : tensor<B x 5 x f64>
    %a2 = add %a, %m : tensor<B x 5 x f64>
    yield %a2
  } : tensor<B x 5 x f64>
  %sq = mul %aT, %aT : tensor<B x 5 x f64>
  %loss = reduce_sum %sq {axes = [0, 1]} : tensor<f64>
  return %loss, %aT
}

func @invariant(%xs: tensor<T x B x 4 x f64>, %h0: tensor<B x 4 x f64>, %W: tensor<4 x 4 x f64>, %s: tensor<4 x f64>, %len: tensor<B x i32>) -> (tensor<f64>, tensor<B x 4 x f64>, tensor<T x B x 4 x f64>) {
  %hT, %hs = scan carry(%h0) over(%xs) lengths(%len) {reverse = 1} {
  ^body(%h: tensor<B x 4 x f64>, %x: tensor<B x 4 x f64>):
    %wt = transpose %W {perm = [1, 0]} : tensor<4 x 4 x f64>
    %half = constant {value = [0.5]} : tensor<4 x f64>
    %one4 = add %half, %half : tensor<4 x f64>
    %sh = mul %s, %one4 : tensor<4 x f64>
    %sb = broadcast %sh {dims = [1]} : tensor<B x 4 x f64>
    %one = constant {value = [1.0]} : tensor<B x 4 x f64>
    %x1 = mul %x, %one : tensor<B x 4 x f64>
    %m = matmul %h, %wt : tensor<B x 4 x f64>
    %z = add %m, %x1 : tensor<B x 4 x f64>
    %zs = add %z, %sb : tensor<B x 4 x f64>
    %t1 = tanh %zs : tensor<B x 4 x f64>
    %t2 = tanh %zs : tensor<B x 4 x f64>
    %unused = exp %zs : tensor<B x 4 x f64>
    %h2 = mul %t1, %t2 : tensor<B x 4 x f64>
    yield %h2, %t1
  } : tensor<B x 4 x f64>, tensor<T x B x 4 x f64>
  %sq = mul %hT, %hT : tensor<B x 4 x f64>
  %loss = reduce_sum %sq {axes = [0, 1]} : tensor<f64>
  return %loss, %hT, %hs
}
)";

/// One run of every function: the time steps and the lengths of the B = 3 examples.
struct Case {
  int64_t steps;
  std::vector<int32_t> lengths;
};
const Case kCases[] = {
    {4, {0, 0, 0}}, {4, {4, 4, 4}}, {4, {0, 2, 4}}, {4, {3, 1, 4}}, {0, {0, 0, 0}}};

std::unique_ptr<Module> parseChecked(const std::string &text) {
  auto m = parseModule(text, "scan_lengths.wir");
  REQUIRE_OK(m);
  return std::move(*m);
}

/// `text` parsed and run through `pipeline`.
std::unique_ptr<Module> afterPipeline(const std::string &text, const std::string &pipeline) {
  auto m = parseChecked(text);
  std::ostringstream log;
  PassManager pm(log);
  Status added = pm.addPipeline(pipeline);
  REQUIRE_MESSAGE(added.isOk(), added.message());
  Status ran = pm.run(*m);
  REQUIRE_MESSAGE(ran.isOk(), std::string(ran.message() + "\n" + log.str()));
  return m;
}

/// Whether `pipeline` (a pass or an alias) runs hoist-weight-gradients or fuse-lstm, which sum
/// and round in another order.
bool reordersSums(const std::string &pipeline) {
  std::ostringstream log;
  PassManager pm(log);
  REQUIRE(pm.addPipeline(pipeline).isOk());
  std::vector<std::string> names = pm.passNames();
  for (const char *reorders : {"hoist-weight-gradients", "fuse-lstm"})
    if (std::find(names.begin(), names.end(), reorders) != names.end())
      return true;
  return false;
}

/// Random inputs for `f` under `c`, with the lengths of `c` for its `len` parameter.
std::vector<Array> inputsFor(const Function &f, const Case &c, const DimBindings &dims) {
  std::vector<Array> inputs = randomInputs(f, dims, 7, {0, 0});
  for (size_t p = 0; p < f.numParams(); ++p)
    if (f.param(p)->name() == "len")
      inputs[p] = Array::of<int32_t>({static_cast<int64_t>(c.lengths.size())}, c.lengths);
  return inputs;
}

/// Runs `want` and `got` on the same inputs for every case and compares their results: the
/// same bits, or within a relative 1e-12 when `reordered`.
void compare(const Function &want, const Function &got, bool reordered) {
  for (const Case &c : kCases) {
    CAPTURE(c.steps);
    CAPTURE(c.lengths[0]);
    CAPTURE(c.lengths[1]);
    CAPTURE(c.lengths[2]);
    DimBindings dims = {{"B", int64_t(c.lengths.size())}, {"T", c.steps}};
    std::vector<Array> inputs = inputsFor(want, c, dims);
    auto w = reference::run(want, inputs, dims);
    auto g = reference::run(got, inputs, dims);
    REQUIRE_OK(w);
    CHECK_OK(g);
    if (!g.isOk() || w->size() != g->size())
      continue;
    for (size_t r = 0; r < w->size(); ++r) {
      CAPTURE(r);
      const Array &a = (*w)[r], &b = (*g)[r];
      if (!reordered) {
        CHECK(sameBits(a, b));
        continue;
      }
      REQUIRE(a.shape() == b.shape());
      double worst = 0;
      for (int64_t i = 0; i < a.numel(); ++i)
        worst = std::max(worst, std::abs(a.getDouble(i) - b.getDouble(i)) /
                                    std::max(1.0, std::abs(a.getDouble(i))));
      CHECK(worst <= 1e-12);
    }
  }
}

/// Every registered pass and every pipeline alias.
std::vector<std::string> pipelinesToCheck() {
  std::vector<std::string> all;
  for (std::string_view p : passNames())
    all.emplace_back(p);
  for (const auto &[alias, passes] : pipelineAliases())
    all.emplace_back(alias);
  return all;
}

} // namespace

TEST_CASE("every pass and pipeline keeps what scans with lengths 0, T and mixed compute") {
  auto original = parseChecked(kPrograms);
  auto differentiated = afterPipeline(kPrograms, "autodiff");
  for (const std::string &pipeline : pipelinesToCheck()) {
    CAPTURE(pipeline);
    auto after = afterPipeline(kPrograms, pipeline);
    bool reordered = reordersSums(pipeline);
    for (const auto &f : after->functions()) {
      std::string name = f->name();
      CAPTURE(name);
      Function *want = original->function(name);
      if (!want)
        want = differentiated->function(name);
      if (!want && pipeline == "optimize-step" && name.ends_with("_step"))
        continue; // a training step; OptimizeStepTest checks it against torch.optim
      REQUIRE(want);
      compare(*want, *f, reordered);
    }
  }
}

TEST_CASE("the passes that rewrite scans do rewrite these programs") {
  // Guards the test above: a program no pass touches would prove nothing.
  for (std::string pipeline : {"licm", "hoist-input-projections", "fuse-elementwise", "simplify",
                               "cse", "dce", "fold-constants", "optimize", "train"}) {
    CAPTURE(pipeline);
    CHECK(print(*afterPipeline(kPrograms, pipeline)) != print(*parseChecked(kPrograms)));
  }
}

} // namespace passes_ScanLengthsPassTest
