// split-scan keeps what a stacked-LSTM decoder scan computes, and its gradients: a two-layer
// LSTM with an output layer and an argmax in one scan with lengths (f64, odd sizes: I = 3,
// H = 5, V = 7, B = 3), run on the reference interpreter before and after the split, on T = 1
// and T = 4 with lengths 0, T and mixed. The forward results are the same bits (the split
// moves ops, it does not reorder any sum). The gradients (@decoder_grad, autodiff after the
// split against autodiff alone) sum a layer's input gradient from two scans instead of one
// step, in another order: they compare within 1e-12 relative to max(1, |value|), while a
// step's gradient lost or counted twice moves them by O(1e-2) or more.
#include "PassTestUtil.h"
#include "passes/PassManager.h"
#include "tests/unit/LstmIr.h"

#include <algorithm>
#include <cmath>
#include <regex>
#include <sstream>

namespace passes_SplitScanTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

/// The LSTM step of tests/unit/LstmIr.h with every name prefixed by `p` (%x -> %ax, %W -> %aW).
std::string layer(const std::string &p, int64_t input) {
  std::string step = testing::lstmStep(
      {.input = input, .hidden = 5, .gates = testing::LstmGates::Separate, .dtype = "f64"});
  return std::regex_replace(step, std::regex("%([A-Za-z_][A-Za-z0-9_]*)"), "%" + p + "$1");
}

/// Layer a reads the input step %ax; layer b reads layer a's new h (%ah2).
const std::string kDecoder = [] {
  std::string b = std::regex_replace(layer("b", 5), std::regex("%bx,"), "%ah2,");
  return R"(
func @decoder(%xs: tensor<T x B x 3 x f64>, %len: tensor<B x i32>, %ah0: tensor<B x 5 x f64>, %ac0: tensor<B x 5 x f64>, %bh0: tensor<B x 5 x f64>, %bc0: tensor<B x 5 x f64>, %aW: tensor<3 x 20 x f64>, %aU: tensor<5 x 20 x f64>, %abias: tensor<20 x f64>, %bW: tensor<5 x 20 x f64>, %bU: tensor<5 x 20 x f64>, %bbias: tensor<20 x f64>, %Wo: tensor<5 x 7 x f64>) -> (tensor<f64>, tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<T x B x 7 x f64>, tensor<T x B x i64>) {
  %haT, %caT, %hbT, %cbT, %logits, %ids = scan carry(%ah0, %ac0, %bh0, %bc0) over(%xs) lengths(%len) {
  ^body(%ah: tensor<B x 5 x f64>, %ac: tensor<B x 5 x f64>, %bh: tensor<B x 5 x f64>, %bc: tensor<B x 5 x f64>, %ax: tensor<B x 3 x f64>):
)" + layer("a", 3) +
         b + R"(    %lw = matmul %bh2, %Wo : tensor<B x 7 x f64>
    %logit = tanh %lw : tensor<B x 7 x f64>
    %id = argmax %logit {axis = 1} : tensor<B x i64>
    yield %ah2, %ac2, %bh2, %bc2, %logit, %id
  } : tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<T x B x 7 x f64>, tensor<T x B x i64>
  %sq = mul %logits, %logits : tensor<T x B x 7 x f64>
  %s = reduce_sum %sq {axes = [0, 1, 2]} : tensor<f64>
  %hc = mul %hbT, %caT : tensor<B x 5 x f64>
  %t = reduce_sum %hc {axes = [0, 1]} : tensor<f64>
  %loss = add %s, %t : tensor<f64>
  return %loss, %haT, %caT, %hbT, %cbT, %logits, %ids
}
)";
}();

std::unique_ptr<Module> afterPipeline(const std::string &pipeline) {
  auto m = parse(kDecoder, "split_scan.wir");
  std::ostringstream log;
  PassManager pm(log);
  REQUIRE(pm.addPipeline(pipeline).isOk());
  Status ran = pm.run(*m);
  REQUIRE_MESSAGE(ran.isOk(), std::string(ran.message() + "\n" + log.str()));
  return m;
}

struct Case {
  int64_t steps;
  std::vector<int32_t> lengths;
};

/// Runs both functions on the same seeded inputs with `c`'s lengths: worstRelativeDifference.
double worstDifference(const Function &want, const Function &got, const Case &c, unsigned seed) {
  DimBindings dims = {{"B", int64_t(c.lengths.size())}, {"T", c.steps}};
  std::vector<Array> inputs = randomInputs(want, dims, seed, {0, 0});
  inputs[1] = Array::of<int32_t>({int64_t(c.lengths.size())}, c.lengths);
  return worstRelativeDifference(want, got, inputs, dims);
}

const Case kCases[] = {
    {1, {1, 0, 1}}, {1, {1, 1, 1}}, {4, {4, 4, 4}}, {4, {3, 0, 4}}, {4, {1, 2, 4}}};

} // namespace

TEST_CASE("split-scan makes one scan per layer and one for the output layer") {
  auto m = afterPipeline("split-scan");
  Function &f = *m->function("decoder");
  CHECK(countOps(f, OpKind::Scan) == 3);
  auto fused = afterPipeline("split-scan,fuse-lstm,dce");
  CHECK(countOps(*fused->function("decoder"), OpKind::LstmSequence) == 2);
}

TEST_CASE("split-scan keeps a stacked decoder's outputs, bit for bit") {
  auto before = parse(kDecoder, "split_scan.wir");
  auto after = afterPipeline("split-scan");
  for (const Case &c : kCases)
    for (unsigned seed : {1u, 2u}) {
      CAPTURE(c.steps);
      CAPTURE(c.lengths[1]);
      CAPTURE(seed);
      CHECK(worstDifference(*before->function("decoder"), *after->function("decoder"), c, seed) ==
            0.0);
    }
}

TEST_CASE("split-scan keeps a stacked decoder's gradients") {
  auto before = afterPipeline("autodiff");
  auto after = afterPipeline("split-scan,autodiff");
  REQUIRE(countOps(*after->function("decoder"), OpKind::Scan) == 3);
  for (const Case &c : kCases)
    for (unsigned seed : {1u, 2u}) {
      CAPTURE(c.steps);
      CAPTURE(c.lengths[1]);
      CAPTURE(seed);
      double worst = worstDifference(*before->function("decoder_grad"),
                                     *after->function("decoder_grad"), c, seed);
      CHECK(worst >= 0.0);
      CHECK(worst <= 1e-12);
    }
}

} // namespace passes_SplitScanTest
