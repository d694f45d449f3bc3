// licm keeps the runs that succeed (issue 14, defect 3): an op that may fault (integer div,
// gather, scatter_add, reduce_max over a possibly empty axis) stays in a loop that may run
// zero times, checked on the reference interpreter with zero-trip scans and whiles. Invariant
// ops that cannot fault, and faulting ops of a scan that surely runs, still move.
#include "PassTestUtil.h"

#include <string>

namespace passes_LICMTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

/// Each function divides, gathers, scatters or reduces loop-invariant values in a loop that
/// runs zero times on the inputs below: a scan over T = 0 steps, a while whose examples have
/// all finished. The invariant op faults on those inputs.
const std::string kZeroTrip = R"(
func @scan_div(%xs: tensor<T x 2 x i32>, %h0: tensor<2 x i32>, %a: tensor<2 x i32>, %d: tensor<2 x i32>) -> (tensor<2 x i32>) {
  %hT = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<2 x i32>, %x: tensor<2 x i32>):
    %q = div %a, %d : tensor<2 x i32>
    %h2 = add %h, %q : tensor<2 x i32>
    yield %h2
  } : tensor<2 x i32>
  return %hT
}

func @scan_gather(%xs: tensor<T x 2 x f32>, %h0: tensor<2 x f32>, %table: tensor<3 x f32>, %idx: tensor<2 x i32>) -> (tensor<2 x f32>) {
  %hT = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<2 x f32>, %x: tensor<2 x f32>):
    %g = gather %table, %idx {axis = 0} : tensor<2 x f32>
    %h2 = add %h, %g : tensor<2 x f32>
    yield %h2
  } : tensor<2 x f32>
  return %hT
}

func @scan_scatter(%xs: tensor<T x 3 x f32>, %h0: tensor<3 x f32>, %idx: tensor<2 x i32>, %u: tensor<2 x f32>) -> (tensor<3 x f32>) {
  %hT = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<3 x f32>, %x: tensor<3 x f32>):
    %s = scatter_add %h0, %idx, %u {axis = 0} : tensor<3 x f32>
    %h2 = add %h, %s : tensor<3 x f32>
    yield %h2
  } : tensor<3 x f32>
  return %hT
}

func @scan_reduce_max(%xs: tensor<T x 2 x f32>, %h0: tensor<2 x f32>, %v: tensor<2 x N x f32>) -> (tensor<2 x f32>) {
  %hT = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<2 x f32>, %x: tensor<2 x f32>):
    %r = reduce_max %v {axes = [1]} : tensor<2 x f32>
    %h2 = add %h, %r : tensor<2 x f32>
    yield %h2
  } : tensor<2 x f32>
  return %hT
}

func @while_div(%f0: tensor<2 x i1>, %c0: tensor<2 x i32>, %a: tensor<2 x i32>, %d: tensor<2 x i32>) -> (tensor<2 x i32>, tensor<i64>) {
  %fin, %cN, %n = while finished(%f0) carry(%c0) {max_trips = 3} {
  ^body(%c: tensor<2 x i32>):
    %q = div %a, %d : tensor<2 x i32>
    %c2 = add %c, %q : tensor<2 x i32>
    %done = ne %c2, %c2 : tensor<2 x i1>
    yield %done, %c2
  } : tensor<2 x i1>, tensor<2 x i32>, tensor<i64>
  return %cN, %n
}

func @while_gather(%f0: tensor<2 x i1>, %c0: tensor<2 x f32>, %table: tensor<3 x f32>, %idx: tensor<2 x i32>) -> (tensor<2 x f32>, tensor<i64>) {
  %fin, %cN, %n = while finished(%f0) carry(%c0) {max_trips = 3} {
  ^body(%c: tensor<2 x f32>):
    %g = gather %table, %idx {axis = 0} : tensor<2 x f32>
    %c2 = add %c, %g : tensor<2 x f32>
    %done = ne %c2, %c2 : tensor<2 x i1>
    yield %done, %c2
  } : tensor<2 x i1>, tensor<2 x f32>, tensor<i64>
  return %cN, %n
}
)";

const DimBindings kZeroSteps = {{"T", 0}, {"N", 0}};

/// Inputs on which the invariant op of `f` faults: divisors 0, indices 5 (out of range), an
/// empty axis for reduce_max; the while's examples have all finished.
std::vector<Array> faultingInputs(const Function &f) {
  std::vector<Array> inputs = randomInputs(f, kZeroSteps, 1, {5, 5});
  for (size_t p = 0; p < f.numParams(); ++p) {
    const std::string &name = f.param(p)->name();
    if (name == "d")
      inputs[p] = Array(DType::I32, {2});
    if (name == "f0")
      inputs[p] = Array::of<bool>({2}, {true, true});
  }
  return inputs;
}

/// Ops inside loop bodies.
size_t loopOps(Function &f) {
  size_t n = 0;
  walk(f.body(), [&](Op &op) { n += op.parentOp() != nullptr; });
  return n;
}

} // namespace

TEST_CASE("licm leaves ops that may fault in loops that run zero times, and the run succeeds") {
  auto before = parse(kZeroTrip, "licm.wir");
  auto after = parse(kZeroTrip, "licm.wir");
  auto licm = createLICMPass();
  runPass(*licm, *after);
  for (const auto &f0 : before->functions()) {
    CAPTURE(f0->name());
    Function *f1 = after->function(f0->name());
    REQUIRE(f1);
    CHECK(loopOps(*f1) == loopOps(*f0));
    std::vector<Array> inputs = faultingInputs(*f0);
    auto want = reference::run(*f0, inputs, kZeroSteps);
    auto got = reference::run(*f1, inputs, kZeroSteps);
    REQUIRE_OK(want);
    CHECK_OK(got); // each function on its own
    if (!got.isOk() || want->size() != got->size())
      continue;
    for (size_t i = 0; i < want->size(); ++i)
      CHECK(sameBits((*want)[i], (*got)[i]));
  }
}

TEST_CASE("licm still moves ops that cannot fault out of a zero-trip loop, and faulting ops out "
          "of a scan over a static nonempty time axis") {
  const std::string text = R"(
func @float_div(%xs: tensor<T x 2 x f32>, %h0: tensor<2 x f32>, %a: tensor<2 x f32>, %d: tensor<2 x f32>) -> (tensor<2 x f32>) {
  %hT = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<2 x f32>, %x: tensor<2 x f32>):
    %q = div %a, %d : tensor<2 x f32>
    %r = reduce_max %a {axes = [0]} : tensor<f32>
    %rb = broadcast %r {dims = []} : tensor<2 x f32>
    %s = add %q, %rb : tensor<2 x f32>
    %h2 = add %h, %s : tensor<2 x f32>
    yield %h2
  } : tensor<2 x f32>
  return %hT
}

func @static_steps(%xs: tensor<3 x 2 x i32>, %h0: tensor<2 x i32>, %a: tensor<2 x i32>, %d: tensor<2 x i32>) -> (tensor<2 x i32>) {
  %hT = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<2 x i32>, %x: tensor<2 x i32>):
    %q = div %a, %d : tensor<2 x i32>
    %h2 = add %h, %q : tensor<2 x i32>
    yield %h2
  } : tensor<2 x i32>
  return %hT
}
)";
  auto before = parse(text, "licm.wir");
  auto after = parse(text, "licm.wir");
  auto licm = createLICMPass();
  CHECK(runPass(*licm, *after));
  for (const auto &f0 : before->functions()) {
    CAPTURE(f0->name());
    Function *f1 = after->function(f0->name());
    REQUIRE(f1);
    CHECK(loopOps(*f1) == 2); // the carry's add and the yield
    for (int64_t steps : {0, 2}) {
      CAPTURE(steps);
      checkSameResults(*f0, *f1, {{"T", steps}}, {1, 3}); // nonzero divisors
    }
  }
}

} // namespace passes_LICMTest
