//===- backends/cpu/CpuBackend.h - JIT-compiled native code for the host --===//
//
// cpu::compile turns every function of a module into native code for the host
// CPU with LLVM 19's ORC LLJIT; Executable::run calls it. Results match the
// reference interpreter (backends/reference), which is the oracle in tests.
//
// Design:
// - One LLVM function per weft function: `void @weft_<name>(ptr bufs, ptr dims,
//   ptr status)`. `bufs` holds one data pointer per buffer slot: parameters,
//   op results (at every nesting level), and scratch (f32 sum accumulators).
//   `dims` holds the bound value of every symbol the function mentions; Dim
//   monomials are evaluated in generated code. `status` is an i64[5] error
//   record (code, op id, three details) that run() turns into a message.
// - The C++ side (Executable.cpp, no LLVM) binds symbols from input shapes as
//   the interpreter does, checks inputs, sizes every slot, and allocates one
//   arena per call. Returned values are written straight into result Arrays.
// - Memory plan: the slots, their live ranges and the in-place writes are the
//   IR-level buffer plan's (analysis/BufferPlan.h), with the scratch this
//   backend asks for per op (Scratch.h); codegen only reads it. At call time
//   runtime/MemoryPlan.h packs the slots (greedy by size, 64-byte aligned) so
//   that only slots with disjoint ranges share bytes; the plan is cached per
//   bound dims. AOT binaries plan the same way (runtime/Aot.h).
// - Each op lowers to a loop nest over its output, row-major with the
//   innermost loop contiguous, so LLVM's loop vectorizer can take it. f32
//   stays f32 (llvm intrinsics, libm for tanh/erf); float sums accumulate in
//   double in the interpreter's order. Float matmul is a packed, cache-blocked
//   GEMM with a register-tiled llvm.fma micro-kernel sized for the host's vectors
//   (EmitMatmul.cpp) whose output tiles run in parallel through the runtime's
//   weft_parallel_for (runtime/Parallel.h: oneTBB, weft::setNumThreads or
//   WEFT_NUM_THREADS); results are bit-identical for any thread count. Integer
//   matmul is an (i, k, j) loop nest.
// - A fusion op (ir/Fusion.h, made by the fuse-elementwise pass) becomes one
//   outlined kernel over rows of its iteration domain: body values live in
//   registers, broadcast arguments are read at their mapped index, trailing
//   reductions accumulate per row as the standalone ops do. Large kernels run
//   their rows through weft_parallel_for (EmitFusion.cpp).
// - scan/while bodies are emitted inline inside a loop over t; carries live in
//   the loop's result buffers, sequence steps are pointer offsets, emits are
//   written at row t of zero-filled stacked results. Faults (index out of
//   range, integer division by zero, a length outside [0, T]) set `status`
//   and never read or write out of bounds.
// - The generated code is pure and every buffer belongs to one call, so one
//   Executable may be run from several threads at once.
//
// Not yet: threading for ops outside matmul and fusion kernels (a lone elementwise op, a
// standalone reduction, shape ops run on the calling thread).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/Backend.h"
#include "ir/Module.h"
#include "runtime/Array.h"

#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace weft::cpu {

struct CompileOptions {
  /// Prints the generated LLVM IR (before and after optimization) to stderr; WEFT_DEBUG=4 in
  /// the environment does the same.
  bool dumpLLVM = false;
  /// LLVM optimization level, 0 to 3. 2 by default: on an LSTM training graph (T = 100,
  /// hidden 128) O3 compiled 3x slower than O2 (2.6-3.2 s vs 0.85-0.92 s) for the same run
  /// time (74-77 ms), since the loops are vectorized and the GEMM is written with vectors.
  int optLevel = 2;
  /// The CPU to generate code for: "native" (this machine, with all its features) or an LLVM
  /// CPU name such as "x86-64-v3" that this machine can run (an older one, to try the code
  /// another machine would get); compile() refuses one with instructions this machine lacks.
  std::string cpu = "native";
  /// Extra target features, LLVM syntax ("+avx2,-fma").
  std::string features;
  /// Threads that optimize and generate code, each for its share of the module's functions;
  /// 0 (the default) takes one per hardware thread, up to 8, for modules big enough to split.
  int compileThreads = 0;
};

struct CompiledFunctions;

/// The scratch arena of one call; parameters and returned values are the caller's, not in it.
struct MemoryReport {
  size_t arenaBytes = 0;     ///< as planned: buffers with disjoint live ranges share bytes
  size_t unplannedBytes = 0; ///< one 64-byte-aligned range per buffer
  size_t buffers = 0;        ///< buffers in the arena
};

/// Native code for the functions of one module. Thread-safe: run() is const and pure.
class Executable {
public:
  explicit Executable(std::unique_ptr<CompiledFunctions> impl);
  ~Executable();
  Executable(const Executable &) = delete;
  Executable &operator=(const Executable &) = delete;

  /// Runs `function` on `inputs` (one per parameter). A parameter dim that is a plain symbol
  /// binds it from the input shape, on top of `dims`; a missing or mis-shaped input, an unbound
  /// symbol or a run-time fault (index out of range, integer division by zero) is an error.
  Expected<std::vector<Array>> run(std::string_view function, std::span<const Array> inputs,
                                   const ir::DimBindings &dims = {}) const;
  /// As run(), but without copying what the function updates in place (ir::OutputAlias, an
  /// optimizer step's parameters and state): the code writes into that input's buffer, and the
  /// result is the input array itself, moved out of `inputs`. The other inputs are only read.
  /// An error found before the call leaves `inputs` as they were; after a run-time fault the
  /// updated inputs stay in `inputs` and may hold partial updates.
  Expected<std::vector<Array>> runInPlace(std::string_view function, std::span<Array> inputs,
                                          const ir::DimBindings &dims = {}) const;

  /// The arena run() allocates for `function` when `dims` binds every symbol of its buffers.
  Expected<MemoryReport> memoryPlan(std::string_view function, const ir::DimBindings &dims) const;

  /// Wall time compile() took (codegen, optimization and machine code), in milliseconds.
  double compileMillis() const;

private:
  /// run() when `updatable` is empty, else runInPlace() (`updatable` is `inputs`).
  Expected<std::vector<Array>> call(std::string_view function, std::span<const Array> inputs,
                                    std::span<Array> updatable, const ir::DimBindings &dims) const;

  std::unique_ptr<CompiledFunctions> impl_;
};

/// Compiles every function of `module` (which must verify) for the host CPU.
Expected<std::unique_ptr<Executable>> compile(const ir::Module &module,
                                              const CompileOptions &options = {});

/// compile() behind the backend interface (backends/Backend.h), registered as "cpu".
const backends::Backend &backend();

/// The Executable inside `exe` when backend() compiled it, else nullptr: for what only the cpu
/// backend reports (memoryPlan, compileMillis).
const Executable *nativeExecutable(const backends::Executable &exe);

} // namespace weft::cpu
