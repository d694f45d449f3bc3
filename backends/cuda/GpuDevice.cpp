//===- backends/cuda/GpuDevice.cpp - the CUDA backend's kernels on a GPU ---===//
//
// The Device for a real GPU, through the driver opened at run time: kernels
// compiled to PTX for the device's generation (sm_90 from Hopper on, sm_80
// from Ampere on) and loaded with cuModuleLoadDataEx, which JIT-compiles them
// for the GPU at hand; one stream per device object, so the calls of one
// executable run in order; every driver error names the call and the op.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/Device.h"
#include "backends/cuda/Driver.h"
#include "backends/cuda/Kernels.h"
#include "backends/cuda/Ptx.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::cuda {
namespace {

class GpuKernels : public LoadedKernels {
public:
  GpuKernels(const Driver &d, CUcontext ctx) : driver(d), context(ctx) {}
  ~GpuKernels() override {
    if (module) {
      driver.api().cuCtxSetCurrent(context);
      driver.api().cuModuleUnload(module);
    }
  }
  const Driver &driver;
  CUcontext context;
  CUmodule module = nullptr;
  std::vector<CUfunction> functions;
};

/// The PTX target weft compiles for on a GPU of this generation.
Expected<std::string> ptxTarget(const DeviceInfo &info) {
  if (info.smMajor >= 9)
    return std::string("sm_90");
  if (info.smMajor >= 8)
    return std::string("sm_80");
  return err(
      fmt::format("{} is {}; weft's CUDA backend needs sm_80 or newer", info.name, info.smName()));
}

class GpuDevice final : public Device {
public:
  static Expected<std::shared_ptr<Device>> open(int ordinal) {
    auto driver = Driver::get();
    WEFT_TRY(driver.status());
    auto info = (*driver)->device(ordinal);
    WEFT_TRY(info.status());
    auto sm = ptxTarget(*info);
    WEFT_TRY(sm.status());
    auto d = std::shared_ptr<GpuDevice>(new GpuDevice(**driver, *info, *sm));
    const DriverApi &api = d->driver_.api();
    WEFT_TRY(d->driver_.check(api.cuDevicePrimaryCtxRetain(&d->context_, ordinal),
                              "cuDevicePrimaryCtxRetain"));
    WEFT_TRY(d->current());
    WEFT_TRY(d->driver_.check(api.cuStreamCreate(&d->stream_, 0), "cuStreamCreate"));
    return std::shared_ptr<Device>(std::move(d));
  }

  ~GpuDevice() override {
    const DriverApi &api = driver_.api();
    if (context_) {
      api.cuCtxSetCurrent(context_);
      if (stream_)
        api.cuStreamDestroy(stream_);
      api.cuDevicePrimaryCtxRelease(info_.ordinal);
    }
  }

  std::string describe() const override { return fmt::format("{} ({})", info_.name, sm_); }
  KernelTarget target() const override { return KernelTarget::Nvptx; }

  Expected<std::unique_ptr<LoadedKernels>> load(KernelModule km,
                                                const std::vector<std::string> &names) override {
    auto ptx = compileToPtx(*km.module, sm_);
    WEFT_TRY(ptx.status());
    WEFT_TRY(current());
    auto out = std::make_unique<GpuKernels>(driver_, context_);
    const DriverApi &api = driver_.api();
    WEFT_TRY(driver_.check(api.cuModuleLoadDataEx(&out->module, ptx->c_str(), 0, nullptr, nullptr),
                           "cuModuleLoadDataEx"));
    for (const std::string &name : names) {
      CUfunction f = nullptr;
      WEFT_TRY(driver_.check(api.cuModuleGetFunction(&f, out->module, name.c_str()),
                             "cuModuleGetFunction", name));
      out->functions.push_back(f);
    }
    return std::unique_ptr<LoadedKernels>(std::move(out));
  }

  Expected<DeviceAddress> allocate(size_t bytes) override {
    WEFT_TRY(current());
    CUdeviceptr p = 0;
    WEFT_TRY(driver_.check(driver_.api().cuMemAlloc(&p, std::max<size_t>(bytes, 1)), "cuMemAlloc",
                           fmt::format("{} bytes", bytes)));
    return DeviceAddress(p);
  }
  void release(DeviceAddress p) override {
    if (current())
      driver_.api().cuMemFree(p);
  }
  Status upload(DeviceAddress dst, const void *src, size_t bytes) override {
    WEFT_TRY(current());
    return driver_.check(driver_.api().cuMemcpyHtoDAsync(dst, src, bytes, stream_),
                         "cuMemcpyHtoDAsync");
  }
  Status download(void *dst, DeviceAddress src, size_t bytes) override {
    WEFT_TRY(current());
    return driver_.check(driver_.api().cuMemcpyDtoHAsync(dst, src, bytes, stream_),
                         "cuMemcpyDtoHAsync");
  }
  Status copy(DeviceAddress dst, DeviceAddress src, size_t bytes) override {
    if (dst == src || bytes == 0)
      return Status::ok();
    WEFT_TRY(current());
    return driver_.check(driver_.api().cuMemcpyDtoDAsync(dst, src, bytes, stream_),
                         "cuMemcpyDtoDAsync");
  }
  Status launch(const LoadedKernels &kernels, size_t index, std::span<const DeviceAddress> buffers,
                std::span<const int64_t> scalars, Grid grid, const std::string &op) override {
    if (grid.blocks <= 0 || grid.threads <= 0)
      return Status::ok();
    WEFT_TRY(current());
    const auto &k = static_cast<const GpuKernels &>(kernels);
    std::vector<DeviceAddress> args(buffers.begin(), buffers.end());
    std::vector<int64_t> values(scalars.begin(), scalars.end());
    std::vector<void *> params;
    for (DeviceAddress &a : args)
      params.push_back(&a);
    for (int64_t &v : values)
      params.push_back(&v);
    return driver_.check(driver_.api().cuLaunchKernel(k.functions.at(index),
                                                      static_cast<unsigned>(grid.blocks), 1, 1,
                                                      static_cast<unsigned>(grid.threads), 1, 1, 0,
                                                      stream_, params.data(), nullptr),
                         "cuLaunchKernel", op);
  }
  int64_t blockThreads() const override { return kMaxBlockThreads; }
  int64_t maxBlocks() const override { return kGpuMaxBlocks; }
  /// One block per SM: a block of at most 256 threads (255 registers each at most) and 48 KB
  /// of shared memory fits on any SM of sm_80 and newer, so a grid of this many runs at once
  /// whatever the kernel's occupancy (kernels of one stream run one after another).
  int64_t coResidentBlocks() const override { return info_.multiprocessors; }
  Status synchronize() override {
    WEFT_TRY(current());
    return driver_.check(driver_.api().cuStreamSynchronize(stream_), "cuStreamSynchronize");
  }

private:
  GpuDevice(const Driver &d, DeviceInfo info, std::string sm)
      : driver_(d), info_(std::move(info)), sm_(std::move(sm)) {}
  /// Makes this device's context the calling thread's (the driver keeps one per thread).
  Status current() const {
    return driver_.check(driver_.api().cuCtxSetCurrent(context_), "cuCtxSetCurrent");
  }

  const Driver &driver_;
  DeviceInfo info_;
  std::string sm_;
  CUcontext context_ = nullptr;
  CUstream stream_ = nullptr;
};

} // namespace

Expected<std::shared_ptr<Device>> openGpu(int ordinal) { return GpuDevice::open(ordinal); }

} // namespace weft::cuda
