// runtime/SymbolBinder.h: the one set of binding rules and messages that the interpreter, the
// JIT (through ir/Signature.h) and AOT calls share.
#include "runtime/SymbolBinder.h"

#include <doctest/doctest.h>

namespace runtime_SymbolBinderTest {

using namespace weft;

TEST_CASE("symbol binder: an input binds a symbol once and a disagreeing size names both") {
  SymbolBinder b({"B", "T"});
  CHECK(b.find("T") == 1);
  CHECK(b.find("K") == 2);
  REQUIRE(b.bindGiven(1, 5).isOk());
  REQUIRE(b.bindFromInput(0, 3, inputLabel(0, "x"), 0).isOk());
  CHECK(b.bindFromInput(0, 3, inputLabel(1, "y"), 1).isOk());
  CHECK(b.values() == std::vector<int64_t>{3, 5});
  Status s = b.bindFromInput(0, 4, inputLabel(1, ""), 1);
  REQUIRE_FALSE(s.isOk());
  CHECK(s.diag().message == "input 1: axis 1 binds B = 4, but input 0 (%x) bound it to 3");
  s = b.bindFromInput(1, 6, inputLabel(2, "z"), 0);
  REQUIRE_FALSE(s.isOk());
  CHECK(s.diag().message ==
        "input 2 (%z): axis 0 binds T = 6, but the caller's dims bound it to 5");
}

TEST_CASE("symbol binder: a negative given size and an unbound symbol are errors") {
  SymbolBinder b({"N", "K"});
  Status s = b.bindGiven(0, -2);
  REQUIRE_FALSE(s.isOk());
  CHECK(s.diag().message == "symbol N is -2, a size must be non-negative");
  CHECK_FALSE(b.isBound(0));
  REQUIRE(b.bindGiven(0, 2).isOk());
  s = b.checkAllBound();
  REQUIRE_FALSE(s.isOk());
  CHECK(s.diag().message == "symbolic dim 'K' is not bound");
}

} // namespace runtime_SymbolBinderTest
