//===- tests/unit/cpu/AliasTest.cpp - declared in-place updates on the JIT ===//
//
// A function that declares `aliases(0 = %w)` computes the same results on the
// JIT as on the interpreter (which ignores the declaration), whether the plan
// writes the update straight into %w's buffer or copies it there at the end,
// and the caller's inputs are left as they were.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "analysis/BufferPlan.h"

#include <cstring>

namespace cpu_AliasTest {

using namespace weft;
using namespace weft::cputest;

namespace {

void checkUpdate(const std::string &text, bool direct) {
  Compiled c = compileText(text);
  const ir::Function &f = *c.module->functions().front();
  analysis::BufferPlan plan(f);
  CHECK(plan.resultSlots()[0] == plan.paramSlots()[0]);
  CHECK(plan.aliasCopies().empty() == direct);
  ir::DimBindings dims{{"N", 37}};
  auto in = randomInputs(f, dims, {}, 11);
  std::vector<Array> before = in;
  auto want = reference::run(f, in, dims);
  REQUIRE_OK(want);
  auto got = c.cpu->run(f.name(), in, dims);
  REQUIRE_OK(got);
  REQUIRE(got->size() == want->size());
  for (size_t k = 0; k < got->size(); ++k) {
    CAPTURE(k);
    REQUIRE((*got)[k].nbytes() == (*want)[k].nbytes());
    CHECK(std::memcmp((*got)[k].data(), (*want)[k].data(), (*got)[k].nbytes()) == 0);
  }
  for (size_t i = 0; i < in.size(); ++i)
    CHECK(std::memcmp(in[i].data(), before[i].data(), in[i].nbytes()) == 0);
}

} // namespace

TEST_CASE("aliases: an SGD step updates %w in place, with the interpreter's results") {
  checkUpdate(R"(
func @sgd(%w: tensor<N x f32>, %g: tensor<N x f32>) -> (tensor<N x f32>, tensor<f32>) aliases(0 = %w) {
  %lr = constant {value = [0.1]} : tensor<N x f32>
  %d = mul %g, %lr : tensor<N x f32>
  %w2 = sub %w, %d : tensor<N x f32>
  %n = reduce_sum %w2 {axes = [0]} : tensor<f32>
  return %w2, %n
}
)",
              /*direct=*/true);
}

TEST_CASE("aliases: an update whose parameter is read afterwards is copied in at the end") {
  checkUpdate(R"(
func @sgd(%w: tensor<N x f32>, %g: tensor<N x f32>) -> (tensor<N x f32>, tensor<N x f32>) aliases(0 = %w) {
  %w2 = sub %w, %g : tensor<N x f32>
  %n = mul %w, %w2 : tensor<N x f32>
  return %w2, %n
}
)",
              /*direct=*/false);
}

} // namespace cpu_AliasTest
