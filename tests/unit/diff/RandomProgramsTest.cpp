#include "ir/Printer.h"
#include "tests/diff/DiffRunner.h"
#include "tests/diff/ProgramGenerator.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

namespace diff_RandomProgramsTest {

using namespace weft;
using namespace weft::difftest;

namespace {

/// WEFT_DIFF_SEEDS, or a count that fits the CI budget: fewer in unoptimized (ASan) builds.
uint64_t seedCount() {
  if (const char *env = std::getenv("WEFT_DIFF_SEEDS"))
    return std::strtoull(env, nullptr, 10);
#ifdef NDEBUG
  return 200;
#else
  return 25;
#endif
}

} // namespace

TEST_CASE("random programs agree on the interpreter and the JIT, with and without pipelines") {
  std::vector<Variant> variants = defaultVariants();
  uint64_t n = seedCount();
  for (uint64_t seed = 1; seed <= n; ++seed) {
    Program p = generateProgram(seed);
    auto failure = runDifferential(*p.module, p.dims, seed, variants);
    // Reproduce and minimize with: scripts/difftest.sh 1 <seed>
    CAPTURE(seed);
    CHECK_MESSAGE(!failure, (failure ? failure->str() + "\n" + ir::print(*p.module) : ""));
  }
}

} // namespace diff_RandomProgramsTest
