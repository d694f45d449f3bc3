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

/// One thing a call does on the device, in program order.
struct Step {
  enum class Kind { Kernel, Copy, Upload, Check } kind = Kind::Kernel;
  size_t kernel = 0;
  /// Kernel: its buffers' slots, in its argument order. Copy: destination, source (the
  /// destination's bytes). Upload: destination.
  std::vector<int> slots;
  LaunchPlan launch;
  FaultCheck check;
  /// Check: the slot of the i64 status word its kernel lowers from INT64_MAX on a fault, which
  /// code built ahead of time reads in place of `check` (runtime/CudaAotPlan.h); -1: none.
  int statusSlot = -1;
  /// Upload: the value, or for a splat constant of a symbolic shape its one element, repeated
  /// over the buffer at run time.
  std::shared_ptr<const Array> constant;
  bool splat = false;
  /// The op, for errors: "'add' (model.cpp:12)".
  std::string what;
};

/// A function compiled for the device: its buffer slots, their live ranges, and its steps.
struct FunctionCode {
  ir::Signature signature;
  std::vector<ir::Type> slotTypes;
  std::vector<LiveRange> lives;
  std::vector<int> paramSlots, resultSlots;
  std::vector<std::pair<int, int>> aliasCopies;
  std::vector<ir::Type> resultTypes;
  std::vector<Step> steps;
};

/// The user's choices that change the kernels.
struct LoweringOptions {
  /// f32 matmuls on tensor cores, their operands rounded to tf32 (the "+tf32" feature).
  bool tf32 = false;
};

/// The options a compile's target features ask for: "+tf32" (or "-tf32"), comma-separated; any
/// other feature is an error naming it.
Expected<LoweringOptions> loweringOptions(const std::string &features);

/// Lowers `f`, adding its kernels to `km` (built for `target`) and their names to
/// `kernelNames`; an op the backend cannot run yet is an error naming it, at its location.
Expected<FunctionCode> lowerFunction(const ir::Function &f, KernelModule &km, KernelTarget target,
                                     std::vector<std::string> &kernelNames,
                                     const LoweringOptions &options = {});

} // namespace weft::cuda::detail
