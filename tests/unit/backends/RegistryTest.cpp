#include "backends/Registry.h"

#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

using namespace weft;

namespace {

/// The backends this build has (tests/CMakeLists.txt says which).
#if WEFT_HAVE_CPU_BACKEND
const std::vector<std::string> kBuilt = {"reference", "cpu"};
#else
const std::vector<std::string> kBuilt = {"reference"};
#endif

} // namespace

TEST_CASE("registry: every backend built is registered, the reference first") {
  std::set<std::string> names;
  for (const backends::Backend *b : backends::registeredBackends()) {
    CAPTURE(b->name());
    CHECK(names.insert(std::string(b->name())).second); // no name twice
    CHECK_FALSE(b->description().empty());
  }
  CHECK(names == std::set<std::string>(kBuilt.begin(), kBuilt.end()));
  REQUIRE_FALSE(backends::registeredBackends().empty());
  CHECK(backends::registeredBackends().front() == &backends::referenceBackend());
}

TEST_CASE("registry: a backend is found by its name") {
  for (const std::string &name : kBuilt) {
    CAPTURE(name);
    auto b = backends::findBackend(name);
    REQUIRE_OK(b);
    CHECK((*b)->name() == name);
  }
}

TEST_CASE("registry: an unknown backend name is an error listing the known ones") {
  auto b = backends::findBackend("cuda9");
  REQUIRE_FALSE(b);
  std::string known = kBuilt.size() == 2 ? "reference, cpu" : "reference";
  CHECK(b.diag().str() == "unknown backend 'cuda9' (this build has: " + known + ")");
}
