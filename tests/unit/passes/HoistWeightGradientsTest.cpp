// hoist-weight-gradients keeps what programs compute (issue 16): the reference interpreter
// runs each function before and after the pass on the same inputs. Where the pass must leave
// the scan alone, the results are the same bits; where it rewrites, the one GEMM sums the
// products in another order than the per-step adds, so those compare in f64 within 1e-12
// (sums of at most 12 products of values in [-2, 2], below 60, move by a few roundings,
// about 1e-14; a wrong sum moves them by O(1)).
#include "PassTestUtil.h"

#include <cmath>
#include <string>

namespace passes_HoistWeightGradientsTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

/// The issue's first reproducer: acc += x_t^T y_t in a scan with lengths. A padded step
/// (t >= len[b]) leaves row b of the carry unchanged.
const std::string kLengths = R"(
func @lengths(%xs: tensor<4 x 2 x 2 x f64>, %ys: tensor<4 x 2 x 5 x f64>, %a0: tensor<2 x 5 x f64>, %len: tensor<2 x i32>) -> (tensor<2 x 5 x f64>) {
  %aT = scan carry(%a0) over(%xs, %ys) lengths(%len) {
  ^body(%a: tensor<2 x 5 x f64>, %x: tensor<2 x 2 x f64>, %y: tensor<2 x 5 x f64>):
    %xt = transpose %x {perm = [1, 0]} : tensor<2 x 2 x f64>
    %m = matmul %xt, %y : tensor<2 x 5 x f64>
    %a2 = add %a, %m : tensor<2 x 5 x f64>
    yield %a2
  } : tensor<2 x 5 x f64>
  return %aT
}
)";

/// The issue's second reproducer (the running sum is also emitted), and a sum that another
/// carry reads.
const std::string kOtherUses = R"(
func @emitted(%xs: tensor<4 x 3 x 2 x f64>, %ys: tensor<4 x 3 x 5 x f64>, %a0: tensor<2 x 5 x f64>) -> (tensor<2 x 5 x f64>, tensor<4 x 2 x 5 x f64>) {
  %aT, %as = scan carry(%a0) over(%xs, %ys) {
  ^body(%a: tensor<2 x 5 x f64>, %x: tensor<3 x 2 x f64>, %y: tensor<3 x 5 x f64>):
    %xt = transpose %x {perm = [1, 0]} : tensor<2 x 3 x f64>
    %m = matmul %xt, %y : tensor<2 x 5 x f64>
    %a2 = add %a, %m : tensor<2 x 5 x f64>
    yield %a2, %a2
  } : tensor<2 x 5 x f64>, tensor<4 x 2 x 5 x f64>
  return %aT, %as
}

func @read(%xs: tensor<4 x 3 x 2 x f64>, %ys: tensor<4 x 3 x 5 x f64>, %a0: tensor<2 x 5 x f64>) -> (tensor<2 x 5 x f64>, tensor<2 x 5 x f64>) {
  %aT, %bT = scan carry(%a0, %a0) over(%xs, %ys) {
  ^body(%a: tensor<2 x 5 x f64>, %b: tensor<2 x 5 x f64>, %x: tensor<3 x 2 x f64>, %y: tensor<3 x 5 x f64>):
    %xt = transpose %x {perm = [1, 0]} : tensor<2 x 3 x f64>
    %m = matmul %xt, %y : tensor<2 x 5 x f64>
    %a2 = add %a, %m : tensor<2 x 5 x f64>
    %b2 = mul %b, %a2 : tensor<2 x 5 x f64>
    yield %a2, %b2
  } : tensor<2 x 5 x f64>, tensor<2 x 5 x f64>
  return %aT, %bT
}
)";

/// The same accumulation with nothing but the carry reading the sum: the pass rewrites it.
const std::string kOnlyCarry = R"(
func @only_carry(%xs: tensor<4 x 3 x 2 x f64>, %ys: tensor<4 x 3 x 5 x f64>, %a0: tensor<2 x 5 x f64>) -> (tensor<2 x 5 x f64>) {
  %aT = scan carry(%a0) over(%xs, %ys) {
  ^body(%a: tensor<2 x 5 x f64>, %x: tensor<3 x 2 x f64>, %y: tensor<3 x 5 x f64>):
    %xt = transpose %x {perm = [1, 0]} : tensor<2 x 3 x f64>
    %m = matmul %xt, %y : tensor<2 x 5 x f64>
    %a2 = add %a, %m : tensor<2 x 5 x f64>
    yield %a2
  } : tensor<2 x 5 x f64>
  return %aT
}
)";

/// Matmuls inside scan bodies.
size_t loopMatmuls(Function &f) {
  size_t n = 0;
  walk(f.body(), [&](Op &op) { n += op.kind() == OpKind::Matmul && op.parentOp() != nullptr; });
  return n;
}

/// Runs `before` and `after` on `inputs` and checks every result element within `tol`
/// (0: the same bits).
void checkResults(const Function &before, const Function &after, const std::vector<Array> &inputs,
                  double tol) {
  auto want = reference::run(before, inputs, {});
  auto got = reference::run(after, inputs, {});
  REQUIRE_OK(want);
  REQUIRE_OK(got);
  REQUIRE(want->size() == got->size());
  for (size_t r = 0; r < want->size(); ++r) {
    CAPTURE(r);
    if (tol == 0) {
      CHECK(sameBits((*want)[r], (*got)[r]));
      continue;
    }
    for (int64_t i = 0; i < (*want)[r].numel(); ++i)
      CHECK(std::abs((*want)[r].getDouble(i) - (*got)[r].getDouble(i)) <= tol);
  }
}

} // namespace

TEST_CASE("hoist-weight-gradients leaves a scan with lengths alone: the same results at "
          "lengths 0, mixed and T") {
  // The lengths mask row b of the carry, here row i of x_t^T y_t: a rewrite would have to drop
  // column i of x_t at t >= len[i], and 0 * inf in the GEMM would still differ from a step the
  // scan skips. Such a carry only type-checks when a weight dimension happens to equal B, and
  // autodiff lowers lengths to selects before BPTT, so the rewrite is not worth its mask.
  auto before = parse(kLengths, "hoist_weight_gradients.wir");
  auto after = parse(kLengths, "hoist_weight_gradients.wir");
  auto hoist = createHoistWeightGradientsPass();
  CHECK_FALSE(runPass(*hoist, *after));
  Function *f0 = before->function("lengths");
  Function *f1 = after->function("lengths");
  REQUIRE(f0);
  REQUIRE(f1);
  CHECK(loopMatmuls(*f1) == 1);
  for (std::vector<int32_t> len : {std::vector<int32_t>{0, 0}, std::vector<int32_t>{1, 4},
                                   std::vector<int32_t>{0, 3}, std::vector<int32_t>{4, 4}}) {
    CAPTURE(len[0]);
    CAPTURE(len[1]);
    std::vector<Array> inputs = randomInputs(*f0, {}, 1, {0, 4});
    inputs.back() = Array::of<int32_t>({2}, len);
    checkResults(*f0, *f1, inputs, 0);
  }
}

TEST_CASE("hoist-weight-gradients leaves a running sum that is emitted or read by another op") {
  auto before = parse(kOtherUses, "hoist_weight_gradients.wir");
  auto after = parse(kOtherUses, "hoist_weight_gradients.wir");
  auto hoist = createHoistWeightGradientsPass();
  CHECK_FALSE(runPass(*hoist, *after));
  for (std::string name : {"emitted", "read"}) {
    CAPTURE(name);
    Function *f0 = before->function(name);
    Function *f1 = after->function(name);
    REQUIRE(f0);
    REQUIRE(f1);
    CHECK(loopMatmuls(*f1) == 1);
    checkSameResults(*f0, *f1, {}, {0, 0});
  }
}

TEST_CASE("hoist-weight-gradients moves a sum only its carry reads out of the loop, within an "
          "f64 tolerance") {
  auto before = parse(kOnlyCarry, "hoist_weight_gradients.wir");
  auto after = parse(kOnlyCarry, "hoist_weight_gradients.wir");
  auto hoist = createHoistWeightGradientsPass();
  auto dce = createDCEPass();
  CHECK(runPass(*hoist, *after));
  runPass(*dce, *after);
  Function *f0 = before->function("only_carry");
  Function *f1 = after->function("only_carry");
  REQUIRE(f0);
  REQUIRE(f1);
  CHECK(loopMatmuls(*f1) == 0);
  CHECK(countOps(*f1, OpKind::Matmul) == 1);
  for (unsigned seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    checkResults(*f0, *f1, randomInputs(*f0, {}, seed, {0, 0}), 1e-12);
  }
}

} // namespace passes_HoistWeightGradientsTest
