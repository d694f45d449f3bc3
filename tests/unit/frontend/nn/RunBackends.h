//===- tests/unit/frontend/nn/RunBackends.h - functions on two backends ------===//
//
// The nn tests run each built function on the reference interpreter and on the CPU JIT, and
// hold both to the same expectations.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "ir/Module.h"
#include "tests/unit/RequireOk.h"

#include <map>
#include <string>
#include <vector>

namespace weft::testing {

/// backend ("interpreter", "jit") -> function name -> results.
using ResultsByBackend = std::map<std::string, std::map<std::string, std::vector<Array>>>;

enum class RunOn { InterpreterOnly, InterpreterAndJit };

/// Runs each function of `m` on `args` with the interpreter and, if asked, with the JIT at
/// LLVM's cheapest level, O0: for these small models compiling, not running, is what costs
/// (about a second of CPU for a bidirectional LSTM's gradient at O2), and the interpreter is
/// nearly free.
inline ResultsByBackend runBackends(const ir::Module &m, const std::vector<Array> &args,
                                    const ir::DimBindings &dims,
                                    RunOn which = RunOn::InterpreterAndJit) {
  ResultsByBackend out;
  for (const auto &f : m.functions()) {
    CAPTURE(f->name());
    auto ref = reference::run(*f, args, dims);
    REQUIRE_OK(ref);
    out["interpreter"][f->name()] = std::move(*ref);
  }
  if (which == RunOn::InterpreterOnly)
    return out;
  cpu::CompileOptions options;
  options.optLevel = 0;
  auto exe = cpu::compile(m, options);
  REQUIRE_OK(exe);
  for (const auto &f : m.functions()) {
    CAPTURE(f->name());
    auto jit = (*exe)->run(f->name(), args, dims);
    REQUIRE_OK(jit);
    out["jit"][f->name()] = std::move(*jit);
  }
  return out;
}

} // namespace weft::testing
