//===- tests/unit/reference/CoverageTest.cpp - every op kind is tested ----===//
#include "Helpers.h"

#include <doctest/doctest.h>

#include <set>

namespace weft::test::reference_CoverageTest {

TEST_CASE("every op kind is run by at least one hand-checked interpreter case") {
  std::set<ir::OpKind> seen;
  for (auto group : {elementwiseCases, shapeCases, mathCases, controlFlowCases})
    for (const OpCase &c : group()) {
      CAPTURE(c.name);
      std::vector<ir::OpKind> kinds = opKindsOf(c);
      CHECK_FALSE(kinds.empty()); // the IR parses
      seen.insert(kinds.begin(), kinds.end());
    }
  for (ir::OpKind k : ir::allOpKinds()) {
    CAPTURE(ir::opName(k));
    CHECK(seen.count(k) == 1);
  }
}

} // namespace weft::test::reference_CoverageTest
