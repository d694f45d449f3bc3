// fuse-lstm-step keeps what a greedy decoder's while loop computes: an LSTM cell (f64, I = 3,
// H = 5, B = 3) whose next input is a projection of its new h, run on the reference
// interpreter with the cell written out and as one lstm_sequence step per trip. The step sums
// the gate pre-activations in another order (x W, h U and the bias in one accumulation), so
// the results compare within 1e-12 relative to max(1, |value|); a gate or a state mixed up
// moves them by O(0.1).
#include "PassTestUtil.h"
#include "tests/unit/LstmIr.h"

#include <algorithm>
#include <cmath>

namespace passes_FuseLstmStepTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

const std::string kGreedy =
    R"(
func @greedy(%f0: tensor<B x i1>, %h0: tensor<B x 5 x f64>, %c0: tensor<B x 5 x f64>, %x0: tensor<B x 3 x f64>, %W: tensor<3 x 20 x f64>, %U: tensor<5 x 20 x f64>, %bias: tensor<20 x f64>, %E: tensor<5 x 3 x f64>) -> (tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<4 x B x 5 x f64>, tensor<i64>) {
  %fin, %hT, %cT, %xT, %hs, %n = while finished(%f0) carry(%h0, %c0, %x0) {max_trips = 4} {
  ^body(%h: tensor<B x 5 x f64>, %c: tensor<B x 5 x f64>, %x: tensor<B x 3 x f64>):
)" +
    testing::lstmStep(
        {.input = 3, .hidden = 5, .gates = testing::LstmGates::Separate, .dtype = "f64"}) +
    R"(    %nx = matmul %h2, %E : tensor<B x 3 x f64>
    %id = argmax %h2 {axis = 1} : tensor<B x i64>
    %two = constant {value = [2]} : tensor<B x i64>
    %done = eq %id, %two : tensor<B x i1>
    yield %done, %h2, %c2, %nx, %h2
  } : tensor<B x i1>, tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<B x 3 x f64>, tensor<4 x B x 5 x f64>, tensor<i64>
  return %hT, %cT, %hs, %n
}
)";

} // namespace

TEST_CASE("fuse-lstm-step keeps what a greedy decoder's loop computes") {
  auto before = parse(kGreedy, "greedy.wir");
  auto after = parse(kGreedy, "greedy.wir");
  auto pass = createFuseLstmStepPass();
  REQUIRE(runPass(*pass, *after));
  REQUIRE(countOps(*after->function("greedy"), OpKind::LstmSequence) == 1);
  DimBindings dims = {{"B", int64_t{3}}};
  for (unsigned seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    std::vector<Array> inputs = randomInputs(*before->function("greedy"), dims, seed, {0, 0});
    auto want = reference::run(*before->function("greedy"), inputs, dims);
    auto got = reference::run(*after->function("greedy"), inputs, dims);
    REQUIRE_OK(want);
    REQUIRE_OK(got);
    REQUIRE(want->size() == got->size());
    for (size_t r = 0; r < want->size(); ++r) {
      CAPTURE(r);
      const Array &a = (*want)[r], &b = (*got)[r];
      REQUIRE(a.shape() == b.shape());
      double worst = 0;
      for (int64_t i = 0; i < a.numel(); ++i)
        worst = std::max(worst, std::abs(a.getDouble(i) - b.getDouble(i)) /
                                    std::max(1.0, std::abs(a.getDouble(i))));
      CHECK(worst <= 1e-12);
    }
  }
}

} // namespace passes_FuseLstmStepTest
