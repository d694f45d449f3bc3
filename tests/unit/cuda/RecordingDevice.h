// A Device that forwards to another (the host device) and counts what crosses to it, or fails
// a chosen call as a driver would: how the tests see allocations, transfers and errors.
#pragma once

#include "backends/cuda/Device.h"
#include "backends/cuda/Kernels.h"

#include <string>

namespace weft::testing {

class RecordingDevice final : public cuda::Device {
public:
  explicit RecordingDevice(std::shared_ptr<cuda::Device> inner) : inner_(std::move(inner)) {}

  int allocations = 0, uploads = 0, downloads = 0, copies = 0, launches = 0;
  /// Launches of kernels with a grid barrier (Grid::coResident).
  int coResidentLaunches = 0;
  size_t uploadedBytes = 0;
  /// The launch number (from 1) that fails, as cuLaunchKernel would; 0: none.
  int failLaunch = 0;
  /// The copy number (from 1) that fails; 0: none.
  int failCopy = 0;

  void reset() {
    allocations = uploads = downloads = copies = launches = coResidentLaunches = 0;
    uploadedBytes = 0;
  }

  std::string describe() const override { return "recording " + inner_->describe(); }
  cuda::KernelTarget target() const override { return inner_->target(); }
  Expected<std::unique_ptr<cuda::LoadedKernels>>
  load(cuda::KernelModule module, const std::vector<std::string> &names) override {
    return inner_->load(std::move(module), names);
  }
  Expected<cuda::DeviceAddress> allocate(size_t bytes) override {
    ++allocations;
    return inner_->allocate(bytes);
  }
  void release(cuda::DeviceAddress p) override { inner_->release(p); }
  Status upload(cuda::DeviceAddress dst, const void *src, size_t bytes) override {
    ++uploads;
    uploadedBytes += bytes;
    return inner_->upload(dst, src, bytes);
  }
  Status download(void *dst, cuda::DeviceAddress src, size_t bytes) override {
    ++downloads;
    return inner_->download(dst, src, bytes);
  }
  Status copy(cuda::DeviceAddress dst, cuda::DeviceAddress src, size_t bytes) override {
    if (++copies == failCopy)
      return err("cuMemcpyDtoDAsync failed: CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory "
                 "access was encountered");
    return inner_->copy(dst, src, bytes);
  }
  Status launch(const cuda::LoadedKernels &kernels, size_t index,
                std::span<const cuda::DeviceAddress> buffers, std::span<const int64_t> scalars,
                cuda::Grid grid, const std::string &op) override {
    coResidentLaunches += grid.coResident ? 1 : 0;
    if (++launches == failLaunch)
      return err("cuLaunchKernel failed (" + op +
                 "): CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES: too many resources requested");
    return inner_->launch(kernels, index, buffers, scalars, grid, op);
  }
  int64_t blockThreads() const override { return inner_->blockThreads(); }
  int64_t maxBlocks() const override { return inner_->maxBlocks(); }
  int64_t coResidentBlocks() const override { return inner_->coResidentBlocks(); }
  Status synchronize() override { return inner_->synchronize(); }

private:
  std::shared_ptr<cuda::Device> inner_;
};

} // namespace weft::testing
