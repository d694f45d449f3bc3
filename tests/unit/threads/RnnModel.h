//===- tests/unit/threads/RnnModel.h - the model the threads tests call ---===//
//
// tests/unit/threads/rnn.wir three ways: compiled by the JIT (Executable::run), compiled by
// weftc at build time and linked in (weft_aot_call), and on the interpreter. Calls return
// errors instead of failing doctest assertions, so that worker threads can make them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cpu/CpuBackend.h"
#include "ir/Module.h"
#include "runtime/Array.h"

#include <memory>
#include <vector>

namespace weft::threadstest {

/// How a call reaches the generated code.
enum class Path { Jit, Aot };

/// One caller's shapes and inputs, and what a serial run (one thread) of them returned.
struct Case {
  ir::DimBindings dims;
  std::vector<Array> in;
  std::vector<Array> want;
};

class RnnModel {
public:
  /// Parses and JIT-compiles rnn.wir (REQUIREs that both work).
  RnnModel();

  /// Runs @rnn on `in` through `path`.
  Expected<std::vector<Array>> call(Path path, const std::vector<Array> &in,
                                    const ir::DimBindings &dims) const;

  /// `n` cases of different shapes (T cycles through 2..4, B = 64 + 32 i, so that more shapes
  /// are in use than a function's plan cache holds) and seeds, their `want` from serial calls
  /// through `path`; the first and the last also checked against the interpreter.
  std::vector<Case> makeCases(Path path, size_t n) const;

private:
  std::unique_ptr<ir::Module> module_;
  std::unique_ptr<cpu::Executable> exe_;
};

} // namespace weft::threadstest
