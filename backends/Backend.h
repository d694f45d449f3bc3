//===- backends/Backend.h - the interface every backend implements --------===//
//
// A Backend compiles a module for its target into an Executable; an
// Executable runs one of the module's functions on host Arrays. The reference
// interpreter and the cpu JIT both implement it, and tests, tools and examples
// reach every backend through it and the registry (backends/Registry.h), so a
// new backend joins them by being listed there.
//
// Every Executable binds inputs the same way: run() finds the function's
// signature and binds symbols and checks inputs with ir::bindInputs before the
// backend sees the call, so an unknown function, a missing input or a
// mis-shaped one gets the same message from every backend.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"
#include "ir/Signature.h"
#include "runtime/Array.h"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weft::backends {

/// What a backend is asked to generate. A backend ignores what does not apply to it (the
/// reference interpreter generates nothing and ignores all of it).
struct CompileOptions {
  /// The machine to generate code for, in the backend's terms (for cpu: an LLVM CPU name such
  /// as "x86-64-v3"); empty means the backend's default (for cpu: this machine).
  std::string target;
  /// Extra target features, LLVM syntax ("+avx2,-fma").
  std::string features;
  /// Optimization level, 0 to 3.
  int optLevel = 2;
  /// Prints the generated code (LLVM IR for cpu) to stderr.
  bool dumpCode = false;
};

/// How one call runs. The number of threads is the runtime's (weft::setNumThreads in
/// runtime/Parallel.h), shared by every call.
struct RunOptions {
  /// Pre-bound symbols, such as ones used only inside the body; a parameter dim that is a
  /// plain symbol is bound from its input's shape on top of these.
  ir::DimBindings dims;
};

/// The functions of one module, compiled by one backend. run() is const and may be called
/// from several threads at once.
class Executable {
public:
  /// `signatures`: one per function of the compiled module, in module order.
  explicit Executable(std::vector<ir::Signature> signatures);
  virtual ~Executable();
  Executable(const Executable &) = delete;
  Executable &operator=(const Executable &) = delete;

  /// The functions it can run, in module order.
  std::span<const ir::Signature> functions() const { return signatures_; }
  /// The signature of `function`, or nullptr when the module has no such function.
  const ir::Signature *signature(std::string_view function) const;

  /// Runs `function` on `inputs` (one per parameter) and returns its results. An unknown
  /// function, a missing, mis-typed or mis-shaped input, an unbound or inconsistent symbol and
  /// a run-time fault (index out of range, integer division by zero) are errors naming the
  /// problem.
  Expected<std::vector<Array>> run(std::string_view function, std::span<const Array> inputs,
                                   const RunOptions &options = {}) const;

protected:
  /// Runs the function of `sig` on `inputs`, which match its parameters under `dims` (every
  /// symbol of a parameter type is bound).
  virtual Expected<std::vector<Array>> runChecked(const ir::Signature &sig,
                                                  std::span<const Array> inputs,
                                                  const ir::DimBindings &dims) const = 0;

private:
  std::vector<ir::Signature> signatures_;
};

/// A compiler from weft IR to something that runs: the reference interpreter, the cpu JIT.
class Backend {
public:
  virtual ~Backend() = default;

  /// The name it is registered and selected under ("reference", "cpu").
  virtual std::string_view name() const = 0;
  /// One line for listings: what it runs on.
  virtual std::string_view description() const = 0;
  /// Compiles every function of `module`, which must verify. The Executable does not refer to
  /// `module` afterwards.
  virtual Expected<std::unique_ptr<Executable>>
  compile(const ir::Module &module, const CompileOptions &options = {}) const = 0;
};

/// The signatures of the functions of `module`, in module order.
std::vector<ir::Signature> signaturesOf(const ir::Module &module);

} // namespace weft::backends
