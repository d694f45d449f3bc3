//===- tests/unit/cpu/JitOptLevelTest.cpp - WEFT_JIT_OPT_LEVEL lowers the JIT's level ===//
//
// The sanitized CI build runs every test with WEFT_JIT_OPT_LEVEL set (tests/CMakeLists.txt):
// the JIT then optimizes at most at that level. These cases set and clear it themselves.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "ir/Parser.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>

namespace cpu_JitOptLevelTest {

using namespace weft;

namespace {

// A loop the O2 pipeline vectorizes and unrolls: its optimized IR differs from O0's.
const char *kScale = R"(
func @scale(%x: tensor<64 x f32>) -> (tensor<64 x f32>) {
  %y = mul %x, %x : tensor<64 x f32>
  %z = add %y, %x : tensor<64 x f32>
  return %z
}
)";

/// Sets (or, with nullopt, clears) an environment variable for one scope, then restores it.
class ScopedEnv {
public:
  ScopedEnv(const char *name, std::optional<std::string> value) : name_(name) {
    if (const char *old = std::getenv(name))
      old_ = old;
    set(value);
  }
  ~ScopedEnv() { set(old_); }
  ScopedEnv(const ScopedEnv &) = delete;
  ScopedEnv &operator=(const ScopedEnv &) = delete;

private:
  void set(const std::optional<std::string> &value) const {
    if (value)
      ::setenv(name_, value->c_str(), 1);
    else
      ::unsetenv(name_);
  }

  const char *name_;
  std::optional<std::string> old_;
};

/// The optimized LLVM IR compile() prints with dumpLLVM (it writes to stderr: fd 2 goes to a
/// file meanwhile), or the compile error.
std::string optimizedIr(int optLevel) {
  auto m = ir::parseModule(kScale);
  REQUIRE(m);
  cpu::CompileOptions options;
  options.dumpLLVM = true;
  options.optLevel = optLevel;
  options.compileThreads = 1;
  std::string path = "/tmp/weft-jit-opt-level-" + std::to_string(::getpid()) + ".ll";
  std::fflush(stderr);
  int saved = ::dup(2);
  FILE *file = std::fopen(path.c_str(), "w");
  REQUIRE(file);
  ::dup2(::fileno(file), 2);
  auto exe = cpu::compile(**m, options);
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(file);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path.c_str());
  if (!exe)
    return exe.diag().str();
  std::string dump = text.str();
  auto optimized = dump.find("; weft cpu: optimized LLVM IR");
  REQUIRE(optimized != std::string::npos);
  return dump.substr(optimized);
}

} // namespace

TEST_CASE("cpu: WEFT_JIT_OPT_LEVEL lowers the optimization level, never raises it") {
  std::string o0, o2;
  {
    ScopedEnv clear("WEFT_JIT_OPT_LEVEL", std::nullopt);
    o0 = optimizedIr(0);
    o2 = optimizedIr(2);
  }
  REQUIRE(o0 != o2);
  ScopedEnv cap("WEFT_JIT_OPT_LEVEL", "0");
  CHECK(optimizedIr(2) == o0);
  CHECK(optimizedIr(0) == o0);
  ScopedEnv high("WEFT_JIT_OPT_LEVEL", "3");
  CHECK(optimizedIr(2) == o2);
  ScopedEnv empty("WEFT_JIT_OPT_LEVEL", "");
  CHECK(optimizedIr(2) == o2);
}

TEST_CASE("cpu: a WEFT_JIT_OPT_LEVEL that is not 0 to 3 is an error naming it") {
  for (const char *bad : {"4", "-1", "fast", "12"}) {
    CAPTURE(bad);
    ScopedEnv env("WEFT_JIT_OPT_LEVEL", bad);
    std::string msg = optimizedIr(2);
    CHECK(msg.find(fmt::format("cpu backend: WEFT_JIT_OPT_LEVEL must be 0, 1, 2 or 3, not '{}'",
                               bad)) != std::string::npos);
  }
}

} // namespace cpu_JitOptLevelTest
