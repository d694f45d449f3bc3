//===- runtime/CudaAot.h - running a function's embedded GPU code ---------===//
//
// A program built ahead of time (weftc, runtime/Aot.h) carries, for each
// function the CUDA backend could compile, its PTX and the plan of a call
// (runtime/CudaAotPlan.h) in the object file. AotGpuFunction loads them on a
// GPU through the driver, opened at run time (runtime/CudaDriver.h): no
// LLVM, no CUDA toolkit. Loading opens a context, a stream of its own and
// the PTX module; constants are uploaded then, once. A call allocates one
// device buffer (the plan's arena), uploads the inputs, runs the steps on
// the stream, downloads the results and synchronizes: transfers only at the
// call's boundary.
//
// Where there is no GPU, load() says "no CUDA device: ..." and why; for a
// function without GPU code, it says why there is none.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Aot.h"
#include "runtime/CudaAotPlan.h"
#include "runtime/Support.h"

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace weft::cuda {

class Driver;

class AotGpuFunction {
public:
  /// Loads the GPU code of `fn` on GPU `ordinal`, through `driver` (Driver::get()'s, the
  /// system's libcuda.so.1, when null).
  static Expected<std::unique_ptr<AotGpuFunction>>
  load(const weft_aot_function &fn, int ordinal = 0, const Driver *driver = nullptr);
  ~AotGpuFunction();
  AotGpuFunction(const AotGpuFunction &) = delete;
  AotGpuFunction &operator=(const AotGpuFunction &) = delete;

  /// Runs one call: inputs[i] holds plan().params[i].bytes bytes, outputs[r] has room for
  /// plan().results[r].bytes. One call at a time per function. Errors name the op whose step
  /// failed. A kept parameter's input is not read (it may be null), and a result that updates
  /// a kept parameter in place (IR `aliases`) stays on the device: its output may be null.
  Status call(std::span<const void *const> inputs, std::span<void *const> outputs);

  /// Keeps parameter `param` on the device from now on, starting from `data`: calls read it
  /// there, and a declared in-place update of it leaves the new value there (weights and
  /// optimizer state across training steps).
  Status keepOnDevice(size_t param, const void *data);
  /// The current value of kept parameter `param`, into `out`.
  Status readFromDevice(size_t param, void *out) const;

  const AotPlan &plan() const { return plan_; }
  /// "NVIDIA H200 (sm_90)".
  const std::string &device() const { return device_; }

private:
  AotGpuFunction() = default;
  struct State;
  AotPlan plan_;
  std::string device_;
  std::string name_;
  /// (result, parameter) for each declared in-place update.
  std::vector<std::pair<size_t, size_t>> aliases_;
  std::unique_ptr<State> state_;
};

/// Whether `fn` carries GPU code, and if not, why: OK, or the reason.
Status aotGpuCodeOf(const weft_aot_function &fn, AotPlan *plan = nullptr);

} // namespace weft::cuda
