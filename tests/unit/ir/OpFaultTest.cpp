// The fault trait of the op vocabulary (FAULT in ir/Ops.def) and its refinement by an op's
// types: which ops may stop a run, the fact that licm needs before it moves an op out of a
// loop that may not run.
#include "ir/Parser.h"
#include "ir/Walk.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace ir_OpFaultTest {

using namespace weft;
using namespace weft::ir;

TEST_CASE("opFault names the kinds the interpreter and generated code can fault in") {
  const std::map<OpKind, OpFault> faulting = {
      {OpKind::Div, OpFault::DivisionByZero},         {OpKind::Gather, OpFault::IndexOutOfRange},
      {OpKind::ScatterAdd, OpFault::IndexOutOfRange}, {OpKind::ReduceMax, OpFault::EmptyReduce},
      {OpKind::ReduceMin, OpFault::EmptyReduce},      {OpKind::Argmax, OpFault::EmptyReduce}};
  for (OpKind k : allOpKinds()) {
    CAPTURE(opName(k));
    auto it = faulting.find(k);
    CHECK(opFault(k) == (it == faulting.end() ? OpFault::None : it->second));
  }
}

TEST_CASE("mayFault: integer div, gathers, and reductions over an axis that may be empty") {
  const std::string text = R"(
func @f(%i: tensor<2 x i32>, %x: tensor<2 x f32>, %t: tensor<3 x f32>, %v: tensor<2 x N x f32>, %e: tensor<2 x 0 x f32>) -> (tensor<2 x i32>) {
  %idiv = div %i, %i : tensor<2 x i32>
  %fdiv = div %x, %x : tensor<2 x f32>
  %g = gather %t, %i {axis = 0} : tensor<2 x f32>
  %s = scatter_add %t, %i, %x {axis = 0} : tensor<3 x f32>
  %max_static = reduce_max %t {axes = [0]} : tensor<f32>
  %max_symbolic = reduce_max %v {axes = [1]} : tensor<2 x f32>
  %min_symbolic = reduce_min %v {axes = [1]} : tensor<2 x f32>
  %min_empty = reduce_min %e {axes = [1]} : tensor<2 x f32>
  %sum_symbolic = reduce_sum %v {axes = [1]} : tensor<2 x f32>
  %arg_static = argmax %v {axis = 0} : tensor<N x i64>
  %arg_symbolic = argmax %v {axis = 1} : tensor<2 x i64>
  %m = mul %i, %i : tensor<2 x i32>
  return %idiv
}
)";
  auto m = parseModule(text, "faults.wir");
  REQUIRE_OK(m);
  const std::map<std::string, bool> want = {{"idiv", true},
                                            {"fdiv", false},
                                            {"g", true},
                                            {"s", true},
                                            {"max_static", false},
                                            {"max_symbolic", true},
                                            {"min_symbolic", true},
                                            {"min_empty", true},
                                            {"sum_symbolic", false},
                                            {"arg_static", false},
                                            {"arg_symbolic", true},
                                            {"m", false}};
  size_t seen = 0;
  walk((*m)->function("f")->body(), [&](Op &op) {
    if (op.numResults() == 0)
      return;
    std::string name = op.result()->name();
    CAPTURE(name);
    REQUIRE(want.count(name));
    CHECK(mayFault(op) == want.at(name));
    ++seen;
  });
  CHECK(seen == want.size());
}

} // namespace ir_OpFaultTest
