//===- tests/unit/main.cpp - doctest's main, with the random order's seed shown ===//
//
// ctest runs every unit test binary with --order-by=rand, so that no test case can lean on
// another having run first. doctest's console output does not show the seed of that order, so
// without --rand-seed this main draws one and prints it: a failing order can be run again.
//
//===----------------------------------------------------------------------===//
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <random>
#include <string_view>

namespace {

bool hasOption(int argc, char **argv, std::string_view longName, std::string_view shortName) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (arg.find(longName) != std::string_view::npos || arg.starts_with(shortName))
      return true;
  }
  return false;
}

} // namespace

int main(int argc, char **argv) {
  doctest::Context context;
  context.applyCommandLine(argc, argv);
  if (hasOption(argc, argv, "order-by=rand", "-ob=rand") &&
      !hasOption(argc, argv, "rand-seed=", "-rs=")) {
    unsigned seed = std::random_device{}() % 1000000;
    context.setOption("rand-seed", static_cast<int>(seed));
    std::printf("[doctest] test cases in random order; to repeat it: --order-by=rand "
                "--rand-seed=%u\n",
                seed);
  }
  return context.run();
}
