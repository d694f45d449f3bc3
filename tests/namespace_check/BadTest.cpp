// A test file that breaks the convention of scripts/check_test_namespaces.py, for ctest's
// test-namespaces-sees-bad: each declaration outside namespace BadTest is reported with its line.
// Not compiled.
#include <doctest/doctest.h>

#include <string>

using namespace std;

namespace {
int helper() { return 1; }
} // namespace

static int counter = 0;

namespace BadTest {
// Inside the file's namespace: fine.
namespace {
const char *kText = R"(a raw string with a } brace and "quotes")";
}
} // namespace BadTest

TEST_CASE("a test case outside the file's namespace is fine: doctest names it uniquely") {
  CHECK(helper() == 1 + counter);
}
