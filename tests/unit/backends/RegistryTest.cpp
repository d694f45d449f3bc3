#include "backends/Registry.h"

#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

namespace backends_RegistryTest {

using namespace weft;

namespace {

/// The backends this build has (tests/CMakeLists.txt says which).
#if WEFT_HAVE_CPU_BACKEND
const std::vector<std::string> kBuilt = {"reference", "cpu"};
#else
const std::vector<std::string> kBuilt = {"reference"};
#endif
#if WEFT_HAVE_CUDA_BACKEND
const std::vector<std::string> kPartial = {"cuda"};
#else
const std::vector<std::string> kPartial = {};
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

TEST_CASE("registry: a backend is found by its name, a partial one too") {
  std::vector<std::string> all = kBuilt;
  all.insert(all.end(), kPartial.begin(), kPartial.end());
  std::set<std::string> partial;
  for (const backends::Backend *b : backends::partialBackends())
    partial.insert(std::string(b->name()));
  CHECK(partial == std::set<std::string>(kPartial.begin(), kPartial.end()));
  for (const std::string &name : all) {
    CAPTURE(name);
    auto b = backends::findBackend(name);
    REQUIRE_OK(b);
    CHECK((*b)->name() == name);
  }
}

TEST_CASE("registry: an unknown backend name is an error listing the known ones") {
  auto b = backends::findBackend("cuda9");
  REQUIRE_FALSE(b);
  std::string known;
  for (auto list : {kBuilt, kPartial})
    for (const std::string &name : list)
      known += (known.empty() ? "" : ", ") + name;
  CHECK(b.diag().str() == "unknown backend 'cuda9' (this build has: " + known + ")");
}

} // namespace backends_RegistryTest
