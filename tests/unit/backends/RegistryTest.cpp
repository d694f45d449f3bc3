#include "backends/Registry.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace weft;

TEST_CASE("registry: the reference interpreter and the cpu JIT are both registered") {
  std::set<std::string> names;
  for (const backends::Backend *b : backends::registeredBackends()) {
    CAPTURE(b->name());
    CHECK(names.insert(std::string(b->name())).second); // no name twice
    CHECK_FALSE(b->description().empty());
  }
  CHECK(names == std::set<std::string>{"reference", "cpu"});
  REQUIRE_FALSE(backends::registeredBackends().empty());
  CHECK(backends::registeredBackends().front() == &backends::referenceBackend());
}

TEST_CASE("registry: a backend is found by its name") {
  for (std::string name : {"reference", "cpu"}) {
    CAPTURE(name);
    auto b = backends::findBackend(name);
    REQUIRE_OK(b);
    CHECK((*b)->name() == name);
  }
}

TEST_CASE("registry: an unknown backend name is an error listing the known ones") {
  auto b = backends::findBackend("cuda9");
  REQUIRE_FALSE(b);
  CHECK(b.diag().str() == "unknown backend 'cuda9' (this build has: reference, cpu)");
}
