#include "tests/diff/Minimizer.h"

#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "ir/Walk.h"
#include "tests/diff/ProgramGenerator.h"

#include <doctest/doctest.h>

namespace diff_MinimizerTest {

using namespace weft;
using namespace weft::difftest;

namespace {

/// Whether `f` has an exp at function level in a program of at least 10 ops.
bool hasOuterExp(ir::Function &f) {
  bool found = false;
  size_t ops = 0;
  ir::walk(f.body(), [&](ir::Op &op) {
    found |= op.kind() == ir::OpKind::Exp && op.parentOp() == nullptr;
    ++ops;
  });
  return found && ops >= 10;
}

} // namespace

TEST_CASE("minimize: a failure that needs only one op shrinks to that op, dims to 0") {
  // A stand-in for a miscompiled exp: "fails" while the program holds an exp anywhere.
  auto holdsExp = [](const ir::Module &m, const ir::DimBindings &) {
    bool found = false;
    ir::walk(m.function("f")->body(), [&](ir::Op &op) { found |= op.kind() == ir::OpKind::Exp; });
    return found;
  };
  uint64_t seed = 1;
  Program p = generateProgram(seed);
  while (!hasOuterExp(*p.module->function("f")))
    p = generateProgram(++seed);
  CAPTURE(seed);
  Reduced r = minimize(*p.module, p.dims, holdsExp);
  REQUIRE(ir::verify(*r.module).isOk());
  std::string text = ir::print(*r.module);
  CAPTURE(text);
  CAPTURE(r.tries);
  ir::Function &f = *r.module->function("f");
  // What is left: the exp of a parameter, returned.
  REQUIRE(f.body().ops().size() == 2);
  CHECK(f.body().ops().front()->kind() == ir::OpKind::Exp);
  CHECK(f.numParams() == 1);
  for (const auto &[sym, size] : r.dims)
    CHECK(size == 0);
}

TEST_CASE("minimize: a program that never stops failing keeps its failing core only") {
  // Fails while some scan remains: the scan stays, the ops around it go.
  auto holdsScan = [](const ir::Module &m, const ir::DimBindings &) {
    bool found = false;
    ir::walk(m.function("f")->body(), [&](ir::Op &op) { found |= op.kind() == ir::OpKind::Scan; });
    return found;
  };
  uint64_t seed = 1;
  Program p = generateProgram(seed);
  while (!holdsScan(*p.module, p.dims) || p.module->function("f")->body().ops().size() < 20)
    p = generateProgram(++seed);
  CAPTURE(seed);
  Reduced r = minimize(*p.module, p.dims, holdsScan);
  std::string text = ir::print(*r.module);
  CAPTURE(text);
  CAPTURE(r.tries);
  size_t ops = 0;
  ir::walk(r.module->function("f")->body(), [&](ir::Op &) { ++ops; });
  CHECK(holdsScan(*r.module, r.dims));
  CHECK(ops <= 4); // scan, yield, return (and at most one op left in the body)
}

} // namespace diff_MinimizerTest
