//===- runtime/CudaAotPlan.h - a function's GPU code, carried in an object ===//
//
// weftc embeds, beside each function's CPU entry point, what the function
// does on a GPU: the PTX of its kernels and the plan of one call, fixed at
// compile time for a function whose shapes are all static. A call allocates
// arenaBytes on the device, uploads the parameters at their offsets, runs
// the steps in order (launches with their scalars and grids, copies on the
// device, constants, checks of a status word a kernel lowered, all_reduce
// through the host), and downloads the results. Loops are unrolled: a scan's trips one after
// another (its lengths checked first), a while's up to its max_trips, each trip behind a check of
// its finished flags that jumps past the rest when all are set. backends/cuda's aotGpuPlan writes
// it; the runtime's loader (runtime/CudaAot.h) runs it without LLVM, through
// runtime/CudaAotSteps.h.
//
// The bytes: "WEFTGPU1", the total size as a little-endian u64, then the
// fields in the order of AotPlan, each string as a u64 length and its bytes,
// each vector as a u64 count and its elements, integers as 8-byte
// little-endian words.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft::cuda {

struct AotPlan {
  std::string function;
  /// Why the function has no GPU code (an op the CUDA backend lacks, a symbolic shape); empty
  /// when it has.
  std::string unavailable;
  /// The PTX target ("sm_90") and the PTX of every kernel the steps launch.
  std::string sm, ptx;
  std::vector<std::string> kernels;
  /// The symbols the plan was specialized to (weftc --bind), and their values: a call's
  /// inputs must have the shapes these give.
  std::vector<std::string> symbols;
  std::vector<int64_t> symbolValues;
  /// The bytes of the call's one device allocation.
  uint64_t arenaBytes = 0;
  struct Buffer {
    uint64_t offset = 0, bytes = 0;
  };
  /// Where each parameter and result lives in the allocation, and its bytes.
  std::vector<Buffer> params, results;

  struct Step {
    enum class Kind : uint64_t {
      Launch,
      Copy,
      Constant,
      StatusCheck,
      LengthsCheck,
      WhileCheck,
      DivisionCheck,
      AllReduce
    };
    Kind kind = Kind::Launch;
    /// Launch: the kernel's index in `kernels`, its buffers' offsets, scalars and grid.
    uint64_t kernel = 0;
    std::vector<uint64_t> buffers;
    std::vector<int64_t> scalars;
    int64_t blocks = 1, threads = 1;
    /// Launch: its blocks wait for each other (a grid-wide barrier), so they must all run at
    /// once: the loader launches at most as many as the GPU has multiprocessors (the kernel
    /// takes any grid size).
    bool coResident = false;
    /// Copy: `bytes` from offset `src` to offset `dst`. Constant: `data` to offset `dst`.
    /// StatusCheck: the i64 at offset `src` must still be INT64_MAX, else a gather or
    /// scatter_add met an index out of range: the indices at offset `dst`, of dtype scalars[0],
    /// index axis scalars[3] (of scalars[2] rows, each of scalars[1] elements) of a table of
    /// type `data`; the indices' dims are scalars[4...].
    /// LengthsCheck: a scan's lengths, `bytes` at `src` of dtype scalars[0], must each lie in
    /// [0, scalars[1]].
    /// WhileCheck: when all `bytes` finished flags at `src` are set, the while ran scalars[0]
    /// trips: that i64 goes to offset `dst` and the call goes on at step scalars[1] (later).
    /// DivisionCheck: the i64 at offset `src` must still be INT64_MAX, else it is the first
    /// element of the value `data` names ("i32[4]") that the op divided by zero.
    /// AllReduce: `bytes` at `src`, of float dtype scalars[0], replaced by the collective
    /// (runtime/Collective.h) with their sum over group scalars[1] (their mean when scalars[2]
    /// is 1) and written to `dst`: the copies go through the host.
    uint64_t dst = 0, src = 0, bytes = 0;
    std::string data;
    /// The op the step computes, for errors: "'add' (model.wir:3:5)".
    std::string op;
  };
  std::vector<Step> steps;
};

/// The bytes of `plan`, as the file comment describes them.
std::string encodeAotPlan(const AotPlan &plan);

/// The size that bytes at `data` say they have (from their first 16), or 0 when they do not
/// start as an encoded plan.
uint64_t encodedAotPlanSize(const unsigned char *data);

/// The plan in `bytes`; an error names what is wrong ("the GPU code is truncated", "not GPU
/// code").
Expected<AotPlan> decodeAotPlan(std::string_view bytes);

} // namespace weft::cuda
