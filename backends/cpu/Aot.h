//===- backends/cpu/Aot.h - ahead-of-time compilation to an object file ---===//
//
// compileToObject turns every function of a module into native code in an
// object file, plus a C header that describes each function to the runtime's
// C ABI (runtime/Aot.h) and declares a typed wrapper per function. A program
// that links the object and weft_runtime runs the model without LLVM.
//
// The object defines `weft_<name>_entry` for each function (the same code the
// JIT runs; other symbols are internal). The header holds, as static const C
// data, what the entry needs that is known at compile time: slot types with
// dims as monomials over the symbols, parameter and result slots, symbol
// names and fault-site messages; and `int weft_<name>(inputs..., symbols...,
// outputs..., char *err, size_t err_len)`, documenting each buffer's size.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cpu/Plan.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace weft::cpu {

struct AotOptions {
  std::string objectPath;
  std::string headerPath;
  /// "native" (the host CPU and its features) or an LLVM CPU name such as "x86-64-v3".
  std::string cpu = "native";
  /// Extra target features, LLVM syntax ("+avx2,-fma"); added to the host's for "native".
  std::string features;
  /// The path the header includes the runtime's C ABI by.
  std::string runtimeInclude = "runtime/Aot.h";
  /// GPU code to carry beside the functions' CPU code, by function name: encoded plans
  /// (runtime/CudaAotPlan.h, from backends/cuda's aotGpuCode). Each becomes the object's
  /// `weft_<name>_gpu` bytes, which the header's weft_aot_function points to (gpu_code); a
  /// function without an entry gets NULL there.
  std::map<std::string, std::string> gpuCode;
};

/// Compiles every function of `module` (which must verify) into `options.objectPath` and
/// writes the header to `options.headerPath`; both files are written atomically.
Status compileToObject(const ir::Module &module, const AotOptions &options);

/// The vector width in bytes of code for `cpu` with `features` (as AotOptions): what the
/// matmul kernels' tiles, and so their scratch (Scratch.h), are sized by.
Expected<int> targetVectorBytes(const std::string &cpu, const std::string &features);

/// The C identifier for function `name`: letters, digits and '_' kept, others as '_'.
std::string aotIdentifier(const std::string &name);

/// The header text for `plans` (one per function of `module`, in order, each with its entry
/// symbol), including the runtime's C ABI by `runtimeInclude`.
std::string aotHeader(const ir::Module &module, const std::vector<FunctionPlan> &plans,
                      const std::string &runtimeInclude,
                      const std::set<std::string> &gpuFunctions = {});

} // namespace weft::cpu
