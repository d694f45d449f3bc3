//===- backends/cuda/CudaBackend.h - weft IR on NVIDIA GPUs ---------------===//
//
// The CUDA backend: each op of a function becomes a launch of a kernel built
// as LLVM IR (backends/cuda/Kernels.h) and compiled to PTX for the device, or
// a copy; buffers live in one device allocation per call, placed by the same
// buffer plan (analysis/BufferPlan.h) and memory plan the CPU backend uses;
// inputs go to the device and results come back only at the function's
// boundary. Parameters the caller keeps on the device (keepOnDevice: weights)
// stay there across calls, outside the per-call allocation, and constants are
// uploaded on the first call and copied on the device after that. Each
// executable has its own stream (a GpuDevice of its own, opened when it is
// compiled); its calls take turns on it. An error of the driver during a call
// names the op whose step failed.
//
// The registered backend ("cuda") runs on GPU 0 through the driver, opened at
// run time: on a machine without one, compiling says "no CUDA device: ...".
// CudaBackend(hostDevice()) runs the same kernels on this CPU (tests).
//
// So far it compiles functions of elementwise ops, reductions and argmax,
// matmul, the shape ops but scatter_add, constants and reshapes, at function
// level (backends/cuda/Lowering.cpp); any other op (scatter_add, iota,
// random, scan, while, fusion, attention, lstm_sequence) is an error at
// compile time naming the op and its location.
//
// f32 matmuls run in f32 on the CUDA cores by default; the target feature
// "+tf32" (CompileOptions::features) puts them on the tensor cores, operands
// rounded to tf32 (10 bits of mantissa), as PyTorch's allow_tf32 does.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/Backend.h"
#include "backends/cuda/Device.h"

#include <functional>
#include <memory>
#include <string>

namespace weft::cuda {

class CudaBackend final : public backends::Backend {
public:
  /// Where the device comes from, asked at each compile: the GPU, or a given device.
  using DeviceSource = std::function<Expected<std::shared_ptr<Device>>()>;

  /// The backend on GPU 0.
  CudaBackend();
  /// The backend on `device` (hostDevice() in tests).
  explicit CudaBackend(std::shared_ptr<Device> device);

  std::string_view name() const override { return "cuda"; }
  std::string_view description() const override;
  Expected<std::unique_ptr<backends::Executable>>
  compile(const ir::Module &module, const backends::CompileOptions &options = {}) const override;

  /// Whether a device is there: OK, or the reason there is none ("no CUDA device: ...").
  Status available() const;

private:
  DeviceSource source_;
};

/// The PTX of every kernel `module`'s functions launch, for `sm` ("sm_80", "sm_90"): what a
/// GPU device loads, for ptxas and for objects that carry it.
Expected<std::string> modulePtx(const ir::Module &module, const std::string &sm,
                                const backends::CompileOptions &options = {});

/// Keeps parameter `param` of `function` on the device of `executable` (one the CUDA backend
/// compiled), set to `value` now: later calls read it there and ignore that input's data (it
/// must still be passed, for its shape), and a declared in-place update of it (IR `aliases`)
/// leaves the new value there for the next call. So weights cross to the device once, not per
/// call. Calling it again uploads a new value. Only parameters of a static shape.
Status keepOnDevice(const backends::Executable &executable, std::string_view function, size_t param,
                    const Array &value);

/// The value of a parameter kept on the device (keepOnDevice), as it is now.
Expected<Array> readFromDevice(const backends::Executable &executable, std::string_view function,
                               size_t param);

/// The registered CUDA backend (GPU 0).
const CudaBackend &backend();

} // namespace weft::cuda
