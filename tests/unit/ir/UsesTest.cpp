// ir/Uses.h: the one use analysis. Uses under a block, nested regions included, stay current
// through replaceAllUsesWith and erase.
#include "ir/Uses.h"

#include "ir/Parser.h"
#include "ir/Printer.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <string>

namespace ir_UsesTest {

using namespace weft;
using namespace weft::ir;

namespace {

const char *kText = R"(
func @f(%x: tensor<T x 2 x f32>, %w: tensor<2 x f32>) -> (tensor<2 x f32>, tensor<2 x f32>) {
  %a = add %w, %w : tensor<2 x f32>
  %b = neg %w : tensor<2 x f32>
  %h = scan carry(%a) over(%x) {
  ^body(%c: tensor<2 x f32>, %s: tensor<2 x f32>):
    %m = mul %c, %w : tensor<2 x f32>
    %n = add %m, %s : tensor<2 x f32>
    yield %n
  } : tensor<2 x f32>
  return %h, %a
}
)";

/// The op of `block` defining %name, or nullptr.
Op *defining(Block &block, const std::string &name) {
  for (auto &op : block.ops())
    for (Value *r : op->results())
      if (r->name() == name)
        return op.get();
  return nullptr;
}

Op *defining(Function &f, const std::string &name) { return defining(f.body(), name); }

/// The body of @f's scan.
Block &scanBody(Function &f) { return f.returnOp()->operand(0)->definingOp()->region(); }

} // namespace

TEST_CASE("uses are recorded under a block, nested regions included") {
  auto m = parseModule(kText, "uses.wir");
  REQUIRE_OK(m);
  Function &f = *(*m)->function("f");
  Uses uses(f.body());
  Value *w = f.param(1);
  REQUIRE(uses.count(w) == 4); // %a twice, %b, %m inside the scan
  CHECK(uses.of(w)[0].user == defining(f, "a"));
  CHECK(uses.of(w)[1].index == 1);
  CHECK(uses.of(w)[3].user == defining(scanBody(f), "m"));
  CHECK(uses.count(defining(f, "a")->result()) == 2); // the scan's carry and the return
  CHECK_FALSE(uses.used(defining(f, "b")->result()));
}

TEST_CASE("replaceAllUsesWith rewrites every use and moves it to the new value") {
  auto m = parseModule(kText, "uses.wir");
  REQUIRE_OK(m);
  Function &f = *(*m)->function("f");
  Uses uses(f.body());
  Value *w = f.param(1), *b = defining(f, "b")->result();
  uses.replaceAllUsesWith(w, b);
  CHECK_FALSE(uses.used(w));
  CHECK(uses.count(b) == 4);
  CHECK(defining(scanBody(f), "m")->operand(1) == b);
  CHECK(defining(f, "a")->operand(0) == b);
}

TEST_CASE("erase forgets the uses an op and its region made") {
  auto m = parseModule(kText, "uses.wir");
  REQUIRE_OK(m);
  Function &f = *(*m)->function("f");
  Uses uses(f.body());
  Value *w = f.param(1);
  Op *ret = f.returnOp();
  Op *scan = ret->operand(0)->definingOp();
  uses.replaceAllUsesWith(scan->result(), defining(f, "a")->result());
  uses.erase(*scan);
  CHECK(uses.count(w) == 3);
  CHECK(uses.count(defining(f, "a")->result()) == 2); // both now from the return
  CHECK(uses.count(f.param(0)) == 0);
  uses.erase(*defining(f, "b"));
  CHECK(uses.count(w) == 2);
  CHECK(print(**m).find("scan") == std::string::npos);
}

} // namespace ir_UsesTest
