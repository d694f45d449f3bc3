//===- tests/unit/analysis/BufferPlanTest.cpp - slots, in place, live ranges ===//
//
// The IR-level buffer plan on small functions: which value shares which
// operand's buffer, where a loop's carries and steps live, the live ranges of
// the slots, scratch from a model, and the report under bound dims.
//
//===----------------------------------------------------------------------===//
#include "analysis/MemoryReport.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

namespace analysis_BufferPlanTest {

using namespace weft;
using analysis::BufferPlan;

namespace {

std::unique_ptr<ir::Module> parse(const char *text) {
  auto m = ir::parseModule(text, "plan.wir");
  REQUIRE_OK(m);
  return std::move(*m);
}

/// The value named `name` (without '%') among the results of the ops of `block`, at any depth.
const ir::Value *named(const ir::Block &block, const std::string &name) {
  for (size_t i = 0; i < block.numArgs(); ++i)
    if (block.arg(i)->name() == name)
      return block.arg(i);
  for (const auto &op : block.ops()) {
    for (const ir::Value *r : op->results())
      if (r->name() == name)
        return r;
    for (size_t k = 0; k < op->numRegions(); ++k)
      if (const ir::Value *v = named(op->region(k), name))
        return v;
  }
  return nullptr;
}

const char *kChain = R"(
func @chain(%x: tensor<N x f32>) -> (tensor<N x f32>) {
  %t = tanh %x : tensor<N x f32>
  %one = constant {value = [1.0]} : tensor<N x f32>
  %a = add %t, %one : tensor<N x f32>
  %e = exp %a : tensor<N x f32>
  %y = mul %e, %x : tensor<N x f32>
  return %y
}
)";

} // namespace

TEST_CASE("buffer plan: an elementwise chain writes in place over operands that die there") {
  auto m = parse(kChain);
  const ir::Function &f = *m->functions().front();
  BufferPlan plan(f);
  auto v = [&](const char *n) { return named(f.body(), n); };
  CHECK(plan.inPlaceOver(v("a")) == v("t"));
  CHECK(plan.inPlaceOver(v("e")) == v("a"));
  CHECK(plan.slotOf(v("e")) == plan.slotOf(v("t")));
  // A parameter is never overwritten, nor is a value written into the caller's result.
  CHECK(plan.inPlaceOver(v("t")) == nullptr);
  CHECK(plan.inPlaceOver(v("y")) == nullptr);
  CHECK(plan.slotOf(v("y")) != plan.slotOf(v("e")));
  // Slots: %x, %t (then %a, %e), %one, %y; %x and %y are the caller's.
  CHECK(plan.slots().size() == 4);
  CHECK(plan.paramSlots() == std::vector<int>{plan.slotOf(v("x"))});
  CHECK(plan.resultSlots() == std::vector<int>{plan.slotOf(v("y"))});
  // %t's slot lives from tanh (position 0) to the last use of %e (position 4).
  CHECK(plan.slots()[plan.slotOf(v("t"))].live == LiveRange{0, 4});

  auto r = analysis::reportMemory(plan, {{"N", 1000}});
  REQUIRE_OK(r);
  CHECK(r->buffers == 2);
  CHECK(r->arenaBytes == 2 * 4032);
  CHECK(r->resultBytes == 4000);
  CHECK(r->peakBytes == 2 * 4032 + 4000);
}

TEST_CASE("buffer plan: a value read again later keeps its own buffer") {
  auto m = parse(R"(
func @f(%x: tensor<N x i32>) -> (tensor<N x i32>) {
  %t = abs %x : tensor<N x i32>
  %a = neg %t : tensor<N x i32>
  %b = mul %a, %t : tensor<N x i32>
  %c = neg %b : tensor<N x i32>
  return %c
}
)");
  const ir::Function &f = *m->functions().front();
  BufferPlan plan(f);
  auto v = [&](const char *n) { return named(f.body(), n); };
  CHECK(plan.inPlaceOver(v("a")) == nullptr); // %t is read again by mul
  CHECK(plan.inPlaceOver(v("b")) != nullptr); // %a or %t, both die there
  CHECK(plan.inPlaceOver(v("c")) == nullptr); // returned
}

TEST_CASE("buffer plan: a different byte size is not written in place") {
  auto m = parse(R"(
func @f(%x: tensor<N x f32>) -> (tensor<N x f64>) {
  %t = tanh %x : tensor<N x f32>
  %c = cast %t : tensor<N x f64>
  %d = add %c, %c : tensor<N x f64>
  return %d
}
)");
  const ir::Function &f = *m->functions().front();
  BufferPlan plan(f);
  CHECK(plan.inPlaceOver(named(f.body(), "c")) == nullptr);
}

TEST_CASE("buffer plan: carries live in the scan's result slots; steps have no slot") {
  auto m = parse(R"(
func @loop(%p: tensor<B x 8 x i64>, %xs: tensor<T x B x 8 x i64>, %h0: tensor<B x 8 x i64>) -> (tensor<B x 8 x i64>, tensor<T x B x 8 x i64>) {
  %w = abs %p : tensor<B x 8 x i64>
  %hT, %hs = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<B x 8 x i64>, %x: tensor<B x 8 x i64>):
    %u = add %h, %w : tensor<B x 8 x i64>
    %v = relu %u : tensor<B x 8 x i64>
    %q = sub %x, %v : tensor<B x 8 x i64>
    yield %q, %q
  } : tensor<B x 8 x i64>, tensor<T x B x 8 x i64>
  return %hT, %hs
}
)");
  const ir::Function &f = *m->functions().front();
  BufferPlan plan(f);
  auto v = [&](const char *n) { return named(f.body(), n); };
  CHECK(plan.slotOf(v("h")) == plan.slotOf(v("hT")));
  CHECK(plan.slotOf(v("x")) == -1);
  // %w is read inside the loop (positions 1 to 5, the yield last): it lives to the loop's
  // end, and nothing overwrites it.
  CHECK(plan.slots()[plan.slotOf(v("w"))].live == LiveRange{0, 5});
  CHECK(plan.inPlaceOver(v("u")) == nullptr);
  // %u dies at relu inside the body: %v takes its buffer.
  CHECK(plan.inPlaceOver(v("v")) == v("u"));
}

TEST_CASE("buffer plan: a scratch model's buffers live through their op") {
  auto m = parse(kChain);
  const ir::Function &f = *m->functions().front();
  analysis::ScratchModel model = [](const ir::Op &op) {
    std::vector<ir::Type> out;
    if (op.kind() == ir::OpKind::Exp)
      out.push_back(ir::Type({ir::Dim(16)}, DType::F64));
    return out;
  };
  BufferPlan plan(f, model);
  const ir::Op *exp = named(f.body(), "e")->definingOp();
  REQUIRE(plan.scratchOf(*exp).size() == 1);
  const analysis::BufferSlot &s = plan.slots()[plan.scratchOf(*exp).front()];
  CHECK(s.role == analysis::SlotRole::Scratch);
  CHECK(s.live == LiveRange{3, 3});
  CHECK(plan.scratchOf(*named(f.body(), "t")->definingOp()).empty());
}

TEST_CASE("buffer plan: the report names a symbol that is not bound") {
  auto m = parse(kChain);
  auto r = analysis::reportMemory(BufferPlan(*m->functions().front()), {});
  REQUIRE_FALSE(r.isOk());
  CHECK(r.diag().message == "symbolic dim 'N' is not bound");
}

TEST_CASE("buffer plan: a declared update is computed straight into its parameter's buffer") {
  auto m = parse(R"(
func @sgd(%w: tensor<N x f32>, %g: tensor<N x f32>) -> (tensor<N x f32>) aliases(0 = %w) {
  %lr = constant {value = [0.1]} : tensor<N x f32>
  %d = mul %g, %lr : tensor<N x f32>
  %w2 = sub %w, %d : tensor<N x f32>
  return %w2
}
)");
  const ir::Function &f = *m->functions().front();
  BufferPlan plan(f);
  int w = plan.paramSlots()[0];
  CHECK(plan.slotOf(named(f.body(), "w2")) == w);
  CHECK(plan.resultSlots() == std::vector<int>{w});
  CHECK(plan.aliasCopies().empty());
  // Only %lr and %d are in the arena; the caller provides no result buffer.
  auto r = analysis::reportMemory(plan, {{"N", 16}});
  REQUIRE_OK(r);
  CHECK(r->resultBytes == 0);
}

TEST_CASE("buffer plan: a declared update whose parameter is read later is copied at the end") {
  auto m = parse(R"(
func @sgd(%w: tensor<N x f32>, %g: tensor<N x f32>) -> (tensor<N x f32>, tensor<N x f32>) aliases(0 = %w) {
  %w2 = sub %w, %g : tensor<N x f32>
  %n = mul %w, %w2 : tensor<N x f32>
  return %w2, %n
}
)");
  const ir::Function &f = *m->functions().front();
  BufferPlan plan(f);
  int w = plan.paramSlots()[0], w2 = plan.slotOf(named(f.body(), "w2"));
  CHECK(w2 != w);
  CHECK(plan.resultSlots()[0] == w);
  REQUIRE(plan.aliasCopies().size() == 1);
  CHECK(plan.aliasCopies().front() == std::pair{w2, w});
  CHECK_FALSE(plan.callerProvided(w2)); // an arena buffer now: the caller gets %w's
}

} // namespace analysis_BufferPlanTest
