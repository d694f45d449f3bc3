//===- backends/cuda/Device.h - where the CUDA backend's kernels run ------===//
//
// The CUDA backend's executables talk to a Device: memory in its address
// space, copies at the function boundary, and launches of the kernels it
// loaded. Two devices implement it:
// - the GPU (DriverDevice.cpp): PTX compiled for the device's SM, loaded and
//   launched through the driver (backends/cuda/Driver.h), one stream each;
// - the host (HostDevice.cpp): the same kernel bodies built for
//   KernelTarget::Host, JIT-compiled for this CPU and run as a small grid:
//   the blocks one after another (all at once for a kernel with a grid
//   barrier), the threads of a block as cooperating threads of this process,
//   so that bar.sync (a std::barrier here) and shared memory behave as on a
//   GPU. It is how the backend's runtime and
//   kernels are tested on machines without a GPU; it is not meant to be fast.
//
// Kernels take `(ptr buffers..., i64 scalars...)` (Kernels.h); the caller picks
// the grid, from blockThreads() and maxBlocks() where a kernel takes any.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace weft::cuda {

enum class KernelTarget;
struct KernelModule;

/// An address in a device's memory (a CUdeviceptr on a GPU).
using DeviceAddress = uint64_t;

/// A launch's grid: `blocks` blocks of `threads` threads (PTX's %nctaid.x and %ntid.x).
/// `coResident`: the kernel has a grid-wide barrier (KernelEmitter::gridBarrier), so all its
/// blocks must run at once; its launch plan keeps `blocks` within Device::coResidentBlocks().
struct Grid {
  int64_t blocks = 1, threads = 1;
  bool coResident = false;
};

/// The most blocks a GPU device launches for kernels whose blocks stride over their work.
constexpr int64_t kGpuMaxBlocks = 65535;

/// The kernels of one module, loaded on a device; launched by index, in the order of the
/// names they were loaded with.
class LoadedKernels {
public:
  virtual ~LoadedKernels() = default;
};

class Device {
public:
  virtual ~Device() = default;
  /// One line: which device ("NVIDIA H200 (sm_90)", "host simulation").
  virtual std::string describe() const = 0;
  /// How kernels for this device are built.
  virtual KernelTarget target() const = 0;

  /// Compiles and loads the kernels `names` of `module`, built for target().
  virtual Expected<std::unique_ptr<LoadedKernels>> load(KernelModule module,
                                                        const std::vector<std::string> &names) = 0;

  virtual Expected<DeviceAddress> allocate(size_t bytes) = 0;
  virtual void release(DeviceAddress p) = 0;
  virtual Status upload(DeviceAddress dst, const void *src, size_t bytes) = 0;
  virtual Status download(void *dst, DeviceAddress src, size_t bytes) = 0;
  virtual Status copy(DeviceAddress dst, DeviceAddress src, size_t bytes) = 0;
  /// Runs kernel `index` of `kernels` on `buffers` and `scalars` with `grid`; `op` names the
  /// op it computes, for errors.
  virtual Status launch(const LoadedKernels &kernels, size_t index,
                        std::span<const DeviceAddress> buffers, std::span<const int64_t> scalars,
                        Grid grid, const std::string &op) = 0;
  /// The block size for kernels that take any (at most kMaxBlockThreads), and the most blocks
  /// worth launching for kernels whose blocks stride over their work.
  virtual int64_t blockThreads() const = 0;
  virtual int64_t maxBlocks() const = 0;
  /// The most blocks of up to kMaxBlockThreads threads and kMaxSharedBytes of static shared
  /// memory that surely run at once (a grid barrier's launch); 0 where unknown (code planned
  /// ahead of time, for a GPU not yet seen).
  virtual int64_t coResidentBlocks() const = 0;
  /// Waits for everything launched or copied so far.
  virtual Status synchronize() = 0;
};

/// The GPU with this ordinal, through the driver; "no CUDA device: ..." where there is none.
Expected<std::shared_ptr<Device>> openGpu(int ordinal = 0);

/// This CPU, running the kernels' host builds (tests, and machines without a GPU).
std::shared_ptr<Device> hostDevice();

} // namespace weft::cuda
