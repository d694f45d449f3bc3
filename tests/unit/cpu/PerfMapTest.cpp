//===- tests/unit/cpu/PerfMapTest.cpp - WEFT_PERF_MAP names JIT code for perf ===//
//
// With WEFT_PERF_MAP=1, compile() appends every function it links to /tmp/perf-<pid>.map as
// "<start> <size> <name>" (hex), the format perf reads: the entry point and the outlined
// bodies it calls. Without it, nothing is written.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/PerfMap.h"

#include "backends/cpu/CpuBackend.h"
#include "ir/Parser.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace cpu_PerfMapTest {

using namespace weft;

namespace {

// Big enough that the elementwise kernel runs as an outlined body over rows.
const char *kBig = R"(
func @big(%x: tensor<512 x 256 x f32>) -> (tensor<512 x 256 x f32>) {
  %y = tanh %x : tensor<512 x 256 x f32>
  %z = mul %y, %x : tensor<512 x 256 x f32>
  return %z
}
)";

std::string readMap() {
  std::ifstream in(cpu::perfMapPath());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

} // namespace

TEST_CASE("cpu: WEFT_PERF_MAP writes the linked functions to /tmp/perf-<pid>.map") {
  std::remove(cpu::perfMapPath().c_str());
  auto m = ir::parseModule(kBig);
  REQUIRE(m);

  ::unsetenv("WEFT_PERF_MAP");
  CHECK_FALSE(cpu::perfMapRequested());
  REQUIRE(cpu::compile(**m));
  CHECK(readMap().empty());

  ::setenv("WEFT_PERF_MAP", "1", 1);
  auto exe = cpu::compile(**m);
  ::unsetenv("WEFT_PERF_MAP");
  REQUIRE(exe);
  std::istringstream lines(readMap());
  bool entry = false, outlined = false;
  for (std::string line; std::getline(lines, line);) {
    unsigned long long start = 0, size = 0;
    char name[256] = {};
    REQUIRE_MESSAGE(std::sscanf(line.c_str(), "%llx %llx %255s", &start, &size, name) == 3, line);
    CHECK(start != 0);
    CHECK(size > 0);
    entry = entry || std::string(name) == "weft_big";
    outlined = outlined || std::string(name).starts_with("weft_big.");
  }
  CHECK(entry);
  CHECK(outlined); // local functions keep their names through JITLink's pruning
  std::remove(cpu::perfMapPath().c_str());
}

} // namespace cpu_PerfMapTest
