// vectorize-scan keeps what a decoder's output layer computes, and its gradients: the step's
// GEMM, bias add, tanh and argmax in a scan without carries with lengths (f64, odd sizes:
// H = 5, V = 7, B = 3), run on the reference interpreter before and after the rewrite, on
// T = 1 and T = 4 with lengths 0, T and mixed, the GEMM in the step or hoisted first. The
// forward results are the same bits (each element is computed as in its step). The gradients
// (autodiff after the rewrite against autodiff of the scan) sum the bias and weight gradients
// over the steps in another order: they compare within 1e-12 relative to max(1, |value|),
// while a padded step counted or a step lost moves them by O(1e-2) or more.
#include "PassTestUtil.h"
#include "passes/PassManager.h"

#include <sstream>

namespace passes_VectorizeScanTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

const char *kHead = R"(
func @head(%hs: tensor<T x B x 5 x f64>, %len: tensor<B x i32>, %Wo: tensor<5 x 7 x f64>, %bo: tensor<7 x f64>) -> (tensor<f64>, tensor<T x B x 7 x f64>, tensor<T x B x i64>) {
  %bb = broadcast %bo {dims = [1]} : tensor<B x 7 x f64>
  %logits, %ids = scan carry() over(%hs) lengths(%len) {
  ^body(%h: tensor<B x 5 x f64>):
    %lw = matmul %h, %Wo : tensor<B x 7 x f64>
    %l0 = add %lw, %bb : tensor<B x 7 x f64>
    %l = tanh %l0 : tensor<B x 7 x f64>
    %id = argmax %l {axis = 1} : tensor<B x i64>
    yield %l, %id
  } : tensor<T x B x 7 x f64>, tensor<T x B x i64>
  %sq = mul %logits, %logits : tensor<T x B x 7 x f64>
  %loss = reduce_sum %sq {axes = [0, 1, 2]} : tensor<f64>
  return %loss, %logits, %ids
}
)";

std::unique_ptr<Module> headAfter(const std::string &pipeline) {
  auto m = parse(kHead, "vectorize_scan.wir");
  if (pipeline.empty())
    return m;
  std::ostringstream log;
  PassManager pm(log);
  REQUIRE(pm.addPipeline(pipeline).isOk());
  Status ran = pm.run(*m);
  REQUIRE_MESSAGE(ran.isOk(), std::string(ran.message() + "\n" + log.str()));
  return m;
}

struct HeadCase {
  int64_t steps;
  std::vector<int32_t> lengths;
};

const HeadCase kHeadCases[] = {
    {1, {1, 0, 1}}, {1, {1, 1, 1}}, {4, {4, 4, 4}}, {4, {3, 0, 4}}, {4, {1, 2, 4}}};

/// The worst difference between function `name` of `want` and of `got` over every case and
/// seeds 1, 2.
double worstOverCases(Module &want, Module &got, const std::string &name) {
  double worst = 0;
  for (const HeadCase &c : kHeadCases)
    for (unsigned seed : {1u, 2u}) {
      CAPTURE(c.steps);
      CAPTURE(c.lengths[1]);
      CAPTURE(seed);
      DimBindings dims = {{"B", int64_t(c.lengths.size())}, {"T", c.steps}};
      std::vector<Array> inputs = randomInputs(*want.function(name), dims, seed, {0, 0});
      inputs[1] = Array::of<int32_t>({int64_t(c.lengths.size())}, c.lengths);
      double d = worstRelativeDifference(*want.function(name), *got.function(name), inputs, dims);
      if (d < 0)
        return d;
      worst = std::max(worst, d);
    }
  return worst;
}

} // namespace

TEST_CASE("vectorize-scan runs an output layer's scan as ops over all steps") {
  for (const char *before : {"", "hoist-input-projections,"}) {
    CAPTURE(before);
    auto m = headAfter(std::string(before) + "vectorize-scan,dce");
    Function &f = *m->function("head");
    CHECK(countOps(f, OpKind::Scan) == 0);
    CHECK(countOps(f, OpKind::Matmul) == 1);
  }
}

TEST_CASE("vectorize-scan keeps an output layer's results, bit for bit") {
  for (const char *before : {"", "hoist-input-projections,"}) {
    CAPTURE(before);
    auto want = headAfter(before[0] ? "hoist-input-projections" : "");
    auto got = headAfter(std::string(before) + "vectorize-scan");
    CHECK(worstOverCases(*want, *got, "head") == 0.0);
  }
}

TEST_CASE("vectorize-scan keeps an output layer's gradients") {
  for (const char *before : {"", "hoist-input-projections,"}) {
    CAPTURE(before);
    auto want = headAfter(std::string(before) + "autodiff");
    auto got = headAfter(std::string(before) + "vectorize-scan,autodiff");
    REQUIRE(countOps(*got->function("head_grad"), OpKind::Scan) == 0);
    double worst = worstOverCases(*want, *got, "head_grad");
    CHECK(worst >= 0.0);
    CHECK(worst <= 1e-12);
  }
}

} // namespace passes_VectorizeScanTest
