//===- backends/cuda/Lowering.h - a function as steps on a device ---------===//
//
// Internal to backends/cuda. Lowering turns each op of a function into steps
// a call runs in order: kernel launches (their kernels added to one module),
// device-to-device copies and constant uploads, over the slots of the shared
// buffer plan. What depends on the call's dims (element counts, strides, the
// grid) is a LaunchPlan, evaluated at each call.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/Device.h"
#include "backends/cuda/Kernels.h"
#include "ir/Module.h"
#include "ir/Signature.h"
#include "runtime/Array.h"
#include "runtime/MemoryPlan.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace weft::cuda::detail {

/// A kernel launch's scalars and grid.
struct Launch {
  std::vector<int64_t> scalars;
  Grid grid;
};

/// The launch of a kernel step for a call's dims on a device; an error is the op's fault (a
/// max over an empty axis), reported as the interpreter reports it.
using LaunchPlan = std::function<Expected<Launch>(const ir::DimBindings &, const Device &)>;

/// A check after a kernel: reads what it needs from the device (the slots' addresses by
/// `address`) and stops the call with the op's fault, or lets it go on.
using FaultCheck = std::function<Status(Device &, const std::function<DeviceAddress(int)> &address,
                                        const ir::DimBindings &)>;

struct LoopCode;

/// One thing a call does on the device, in program order.
struct Step {
  enum class Kind { Kernel, Copy, Upload, Check, Loop, Host } kind = Kind::Kernel;
  size_t kernel = 0;
  /// Kernel: its buffers' slots, in its argument order. Copy: destination, source (the
  /// destination's bytes). Upload: destination.
  std::vector<int> slots;
  LaunchPlan launch;
  FaultCheck check;
  /// Check: the slot of the i64 status word its kernel lowers from INT64_MAX on a fault, which
  /// code built ahead of time reads in place of `check` (runtime/CudaAotPlan.h); -1: none.
  int statusSlot = -1;
  /// Check: when set, the word's fault is integer division by zero in a value of this type (the
  /// dividend's); else an index out of range.
  std::optional<ir::Type> divided;
  /// Check: when set, the word's fault is an index out of range of a gather or scatter_add, which
  /// code built ahead of time names from these (its StatusCheck step): the indices' slot and
  /// type, the table's type and the indexed axis.
  struct Indexed {
    int indicesSlot = -1;
    ir::Type indices, table;
    int64_t axis = 0;
  };
  std::optional<Indexed> indexed;
  /// Check: when set, it checks a scan-like op's lengths (their slot and type) against axis 0
  /// of `sequence`, as checkLengths makes it; code built ahead of time checks them with a step
  /// of its own (runtime/CudaAotPlan.h).
  struct Lengths {
    int slot = -1;
    ir::Type type, sequence;
  };
  std::optional<Lengths> lengths;
  /// Upload: the value, or for a splat constant of a symbolic shape its one element, repeated
  /// over the buffer at run time.
  std::shared_ptr<const Array> constant;
  bool splat = false;
  /// Host: work the host does between kernels over the slots' device memory (all_reduce's
  /// copy to the host, the collective, and the copy back); an error stops the call.
  FaultCheck host;
  /// Host: the all_reduce it is (from slots[1] into slots[0]), which code built ahead of time
  /// runs as a step of its own.
  struct AllReduce {
    ir::Type type;
    int64_t group = 0;
    bool mean = false;
  };
  std::optional<AllReduce> allReduce;
  /// Loop: a scan or while, run by the host (LoopCode).
  std::shared_ptr<const LoopCode> loop;
  /// The op, for errors: "'add' (model.cpp:12)".
  std::string what;
};

/// The copy of a yielded value into a carry or into row t of a stacked emit (a kernel of
/// emitLoopCopyKernel, masked by the loop's lengths or finished flags where it has them), or
/// an emit's zeroing before the loop (a fill kernel).
struct LoopCopy {
  size_t kernel = 0;
  /// What is yielded and where it goes: a slot, or a view (FunctionCode::numSlots + i).
  int from = 0, to = 0;
  /// The value's type (one example's row is its axis 0's slice under a mask).
  ir::Type type;
};

/// A scan or while whose control flow the host runs, launching the body's steps each trip over
/// the shared buffer plan's slots: the carries live in the loop's result slots (the body's
/// arguments are them), a scan's sequence steps are views into the sequences that move each
/// step, and yielded values are copied into the carries and into row t of the stacked emits.
/// A while reads its `finished` flags back once per trip, before it, to know whether to go on.
struct LoopCode {
  bool isWhile = false, reverse = false;
  int64_t maxTrips = 0;
  /// Before the first trip: copies of the initial carries (and finished flags) into place.
  std::vector<std::pair<int, int>> init; // (to, from)
  /// Each trip: the sequences' views (view ref, sequence ref, the step's type), set first.
  struct View {
    int ref, sequence;
    ir::Type step;
  };
  std::vector<View> views;
  std::vector<Step> body;
  /// After the body: yielded carries copied through `staged` scratch where a yield reads
  /// another carry's argument (a swap), then the carries, then the emits.
  std::vector<LoopCopy> staged, carries, emits;
  /// The lengths (scan) or finished flags (while) the copies read; -1 if none.
  int maskRef = -1;
  /// A scan's sequence 0, whose axis 0 is T; its lengths' type, if it has them.
  ir::Type sequenceType;
  std::optional<ir::Type> lengthsType;
  /// A while's finished flags, yielded `done`, the trip count's slot, and the kernel that ors
  /// done into finished.
  int finishedSlot = -1, doneRef = -1, tripsSlot = -1;
  size_t orKernel = 0;
  /// A while's emits, zeroed before the first trip (the rows of trips not run stay zero).
  std::vector<LoopCopy> zeroed;
};

/// A launch a loop makes besides its body's steps: a kernel, its buffers as slot or view refs,
/// its scalars and grid. RunSteps.cpp launches them trip by trip; code built ahead of time
/// (AotPlan.cpp) writes them out for every trip (LoopLaunches.cpp).
struct LoopLaunch {
  size_t kernel = 0;
  std::vector<int> refs;
  Launch launch;
};

/// Makes `check`, a Check step, the check that the lengths in `slot` (of `type`) lie in
/// [0, T], T being axis 0 of `sequence`; the error is the interpreter's.
void checkLengths(Step &check, int slot, const ir::Type &type, const ir::Type &sequence);

/// A scan's trip count (its sequence 0's axis 0) at `dims`.
Expected<int64_t> scanTrips(const LoopCode &l, const ir::DimBindings &dims);

/// Where view `v` starts within its sequence at step t, in bytes.
Expected<size_t> viewOffset(const LoopCode::View &v, const ir::DimBindings &dims, int64_t t);

/// Loop copy `c` at step t: its rows into row offset `row` of its destination (an emit's t,
/// else 0), inactive examples' rows zeroed when `zero`; nothing when the value is empty.
Expected<std::optional<LoopLaunch>> loopCopyLaunch(const LoopCode &l, const LoopCopy &c,
                                                   const ir::DimBindings &dims,
                                                   const Device &device, int64_t t, int64_t row,
                                                   bool zero);

/// The zeroing of a while's emit `z` before its first trip.
Expected<LoopLaunch> loopZeroLaunch(const LoopCopy &z, const ir::DimBindings &dims,
                                    const Device &device);

/// A while's `finished |= done` over its `flags` examples, after each trip.
LoopLaunch whileOrLaunch(const LoopCode &l, int64_t flags, const Device &device);

/// A function compiled for the device: its buffer slots, their live ranges, and its steps.
struct FunctionCode {
  ir::Signature signature;
  std::vector<ir::Type> slotTypes;
  std::vector<LiveRange> lives;
  std::vector<int> paramSlots, resultSlots;
  std::vector<std::pair<int, int>> aliasCopies;
  std::vector<ir::Type> resultTypes;
  std::vector<Step> steps;
  /// References past the slots are views (a scan's sequence steps): numViews of them.
  int numViews = 0;
};

/// The user's choices that change the kernels.
struct LoweringOptions {
  /// f32 matmuls on tensor cores, their operands rounded to tf32 (the "+tf32" feature).
  bool tf32 = false;
};

/// The options a compile's target features ask for: "+tf32" (or "-tf32"), comma-separated; any
/// other feature is an error naming it.
Expected<LoweringOptions> loweringOptions(const std::string &features);

/// Where a call's slots and views are, and what it runs on.
struct CallState {
  Device &device;
  const LoadedKernels &kernels;
  const ir::DimBindings &dims;
  /// Addresses of the slots, then of the views.
  std::vector<DeviceAddress> addresses;
  /// Bytes of each slot.
  std::vector<size_t> bytes;
  /// Where a constant step's value already is on the device at the given bytes (the
  /// executable's cache); when empty, the step uploads it from the host.
  std::function<Expected<DeviceAddress>(const Step &, size_t)> constantAddress;
};

/// The bytes of constant step `step` filling `total` bytes (a splat repeated).
std::vector<std::byte> filledConstant(const Step &step, size_t total);

/// all_reduce `op` as a Host step from slot `from` into slot `to` (CollectiveStep.cpp);
/// `what` names the op in its errors.
Step allReduceStep(const ir::Op &op, int from, int to, std::string what);

/// Runs `steps` (RunSteps.cpp); an error names the op that failed.
Status runSteps(const std::vector<Step> &steps, CallState &call);

/// Lowers `f`, adding its kernels to `km` (built for `target`) and their names to
/// `kernelNames`; an op the backend cannot run yet is an error naming it, at its location.
Expected<FunctionCode> lowerFunction(const ir::Function &f, KernelModule &km, KernelTarget target,
                                     std::vector<std::string> &kernelNames,
                                     const LoweringOptions &options = {});

} // namespace weft::cuda::detail
