//===- backends/cpu/Plan.h - what run() needs to call generated code -------===//
//
// Internal to the CPU backend and free of LLVM: codegen fills a FunctionPlan
// (buffer slots with their live ranges, symbols, fault sites); Executable::run
// sizes the slots under the bound dims, places them in one arena with the
// memory planner (runtime/MemoryPlan.h) and calls the entry point.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cpu/CpuBackend.h"
#include "ir/Signature.h"
#include "runtime/MemoryPlan.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace weft::cpu {

/// Run-time faults generated code reports through the status record.
enum class Fault : int64_t {
  None = 0,
  IndexOutOfRange = 1,  // details: index, flat position in the indices, axis size
  DivisionByZero = 2,   // details: element
  LengthOutOfRange = 3, // details: length, example, T
  EmptyReduce = 4,      // no details
  ConstantCount = 5,    // details: values, elements
  Collective = 6,       // weft_all_reduce failed; runtime/Collective.h's lastError() says why
};

/// The status record: code, op id, three details.
inline constexpr int kStatusWords = 5;

/// An op that can fault, for messages.
struct FaultSite {
  std::string opName;
  Loc loc;
  std::string what; // e.g. "axis 0 of tensor<V x 8 x f32>"
};

using EntryFn = void (*)(void *const *bufs, const int64_t *dims, int64_t *status);

struct FunctionPlan {
  ir::Signature signature;              // the name, parameter names and types
  std::string symbol;                   // weft_<name>
  std::vector<std::string> symbols;     // dims[i] is the value of symbols[i]
  std::vector<ir::Type> slots;          // one buffer per slot, sized from its type
  std::vector<LiveRange> lives;         // the program positions over which slot i holds a value
  std::vector<int> paramSlots;          // the slot of parameter i
  std::vector<int> resultSlots;         // the slot holding returned value i
  std::vector<ir::OutputAlias> aliases; // results written into their parameter's slot
  std::vector<FaultSite> faultSites;
  EntryFn entry = nullptr;
  /// The symbols slot types name (Executable fills it): the key of the plan cache.
  std::vector<std::string> sizeSymbols;
  /// The arena plans of recent calls, by the values of `sizeSymbols`.
  std::shared_ptr<MemoryPlanCache> planCache = std::make_shared<MemoryPlanCache>();
};

struct CompiledFunctions {
  std::vector<FunctionPlan> functions;
  std::shared_ptr<void> jit; // keeps the generated code alive (an llvm::orc::LLJIT)
  double compileMillis = 0;
};

} // namespace weft::cpu
