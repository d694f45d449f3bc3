// The buffer plan's peak memory shows what the BPTT options do to the residual stacks.
#include "analysis/MemoryReport.h"
#include "ir/Parser.h"
#include "passes/autodiff/Autodiff.h"
#include "tests/unit/LstmIr.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace autodiff_ResidualMemoryTest {

using namespace weft;

namespace {

/// An LSTM over T = 100 steps with a loss on every hidden state.
const std::string kLstm =
    R"(func @lstm(%xs: tensor<100 x B x 16 x f32>, %W: tensor<48 x 128 x f32>, %r: tensor<100 x B x 32 x f32>) -> (tensor<f32>) {
  %zero = constant {value = [0.0]} : tensor<B x 32 x f32>
  %hT, %cT, %hs = scan carry(%zero, %zero) over(%xs) {
  ^body(%h: tensor<B x 32 x f32>, %c: tensor<B x 32 x f32>, %x: tensor<B x 16 x f32>):
)" + testing::lstmStep({.input = 16, .hidden = 32, .gates = testing::LstmGates::Concat}) +
    R"(    yield %h2, %c2, %h2
  } : tensor<B x 32 x f32>, tensor<B x 32 x f32>, tensor<100 x B x 32 x f32>
  %w = mul %hs, %r : tensor<100 x B x 32 x f32>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<f32>
  return %l
}
)";

int64_t peak(const autodiff::GradOptions *options) {
  auto m = ir::parseModule(kLstm, "lstm.wir");
  REQUIRE(m.isOk());
  const ir::Function *f = (*m)->functions().front().get();
  if (options) {
    autodiff::GradOptions o = *options;
    o.wrt = {"W"};
    auto g = autodiff::buildGradient(**m, *f, o);
    REQUIRE_OK(g);
    f = *g;
  }
  auto est = analysis::reportMemory(analysis::BufferPlan(*f), {{"B", 32}});
  REQUIRE_OK(est);
  return est->peakBytes;
}

} // namespace

TEST_CASE("residual stacks: stash > recompute > checkpointing, all above the forward pass") {
  autodiff::GradOptions stash, recompute, checkpoint;
  recompute.residuals = autodiff::Residuals::Recompute;
  checkpoint.checkpointEvery = 10;
  int64_t forward = peak(nullptr), s = peak(&stash), r = peak(&recompute), c = peak(&checkpoint);
  MESSAGE(fmt::format("peak bytes, B = 32: forward {}, stash {}, recompute {}, checkpoint(10) {}",
                      forward, s, r, c));
  CHECK(forward < c);
  CHECK(c < r);
  CHECK(r < s);
  // One step's carries (2 x 32 x 32 floats) over 100 steps is 819200 bytes; checkpointing
  // every 10 steps keeps 10 segments' carries plus one segment's residuals at a time.
  CHECK(s - c > 819200);
}

TEST_CASE("the memory report needs every symbolic dim bound, and says which is missing") {
  auto m = ir::parseModule(kLstm, "lstm.wir");
  REQUIRE(m.isOk());
  auto est = analysis::reportMemory(analysis::BufferPlan(*(*m)->functions().front()), {});
  REQUIRE_FALSE(est.isOk());
  CHECK(est.diag().message == "symbolic dim 'B' is not bound");
}

} // namespace autodiff_ResidualMemoryTest
