//===- runtime/CudaDriver.cpp ---------------------------------------------===//
#include "runtime/CudaDriver.h"

#include <fmt/format.h>

#include <dlfcn.h>
#include <memory>
#include <mutex>

namespace weft::cuda {
namespace {

constexpr const char *kNoDevice = "no CUDA device: ";
// cuda.h's CUdevice_attribute values weft reads.
constexpr int kAttrMultiprocessors = 16, kAttrMajor = 75, kAttrMinor = 76;

/// Looks up `name` (or its versioned `name_v2`, which the ABI since CUDA 3.2 exports for
/// some calls) in `handle`.
template <class Fn> bool bind(void *handle, Fn &fn, const char *name, const char *v2 = nullptr) {
  void *p = v2 ? dlsym(handle, v2) : nullptr;
  if (!p)
    p = dlsym(handle, name);
  fn = reinterpret_cast<Fn>(p);
  return p != nullptr;
}

} // namespace

std::string DeviceInfo::smName() const { return fmt::format("sm_{}{}", smMajor, smMinor); }

Expected<Driver *> Driver::open(const std::string &library) {
  void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return err(fmt::format("{}{} cannot be opened ({}); a GPU needs NVIDIA's driver installed",
                           kNoDevice, library, why ? why : "unknown reason"));
  }
  std::unique_ptr<Driver> d(new Driver);
  d->handle_ = handle;
  DriverApi &a = d->api_;
  struct Entry {
    bool ok;
    const char *name;
  };
  const Entry entries[] = {
      {bind(handle, a.cuInit, "cuInit"), "cuInit"},
      {bind(handle, a.cuDriverGetVersion, "cuDriverGetVersion"), "cuDriverGetVersion"},
      {bind(handle, a.cuDeviceGetCount, "cuDeviceGetCount"), "cuDeviceGetCount"},
      {bind(handle, a.cuDeviceGet, "cuDeviceGet"), "cuDeviceGet"},
      {bind(handle, a.cuDeviceGetName, "cuDeviceGetName"), "cuDeviceGetName"},
      {bind(handle, a.cuDeviceGetAttribute, "cuDeviceGetAttribute"), "cuDeviceGetAttribute"},
      {bind(handle, a.cuDeviceTotalMem, "cuDeviceTotalMem", "cuDeviceTotalMem_v2"),
       "cuDeviceTotalMem"},
      {bind(handle, a.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
       "cuDevicePrimaryCtxRetain"},
      {bind(handle, a.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease",
            "cuDevicePrimaryCtxRelease_v2"),
       "cuDevicePrimaryCtxRelease"},
      {bind(handle, a.cuCtxSetCurrent, "cuCtxSetCurrent"), "cuCtxSetCurrent"},
      {bind(handle, a.cuModuleLoadDataEx, "cuModuleLoadDataEx"), "cuModuleLoadDataEx"},
      {bind(handle, a.cuModuleUnload, "cuModuleUnload"), "cuModuleUnload"},
      {bind(handle, a.cuModuleGetFunction, "cuModuleGetFunction"), "cuModuleGetFunction"},
      {bind(handle, a.cuMemAlloc, "cuMemAlloc", "cuMemAlloc_v2"), "cuMemAlloc"},
      {bind(handle, a.cuMemFree, "cuMemFree", "cuMemFree_v2"), "cuMemFree"},
      {bind(handle, a.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2"),
       "cuMemcpyHtoDAsync"},
      {bind(handle, a.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync", "cuMemcpyDtoHAsync_v2"),
       "cuMemcpyDtoHAsync"},
      {bind(handle, a.cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync", "cuMemcpyDtoDAsync_v2"),
       "cuMemcpyDtoDAsync"},
      {bind(handle, a.cuMemsetD8Async, "cuMemsetD8Async"), "cuMemsetD8Async"},
      {bind(handle, a.cuStreamCreate, "cuStreamCreate"), "cuStreamCreate"},
      {bind(handle, a.cuStreamDestroy, "cuStreamDestroy", "cuStreamDestroy_v2"), "cuStreamDestroy"},
      {bind(handle, a.cuStreamSynchronize, "cuStreamSynchronize"), "cuStreamSynchronize"},
      {bind(handle, a.cuLaunchKernel, "cuLaunchKernel"), "cuLaunchKernel"},
      {bind(handle, a.cuGetErrorName, "cuGetErrorName"), "cuGetErrorName"},
      {bind(handle, a.cuGetErrorString, "cuGetErrorString"), "cuGetErrorString"},
  };
  for (const Entry &e : entries)
    if (!e.ok) {
      dlclose(handle);
      return err(fmt::format("{}{} lacks {}; the NVIDIA driver is too old or not CUDA's", kNoDevice,
                             library, e.name));
    }
  if (CUresult r = a.cuInit(0); r != 0) {
    Status s = d->check(r, "cuInit");
    dlclose(handle);
    return err(kNoDevice + s.message());
  }
  a.cuDeviceGetCount(&d->deviceCount_);
  if (d->deviceCount_ < 1) {
    dlclose(handle);
    return err(fmt::format("{}the driver sees 0 GPUs", kNoDevice));
  }
  return d.release(); // lives as long as the process: contexts and modules refer to it
}

Expected<Driver *> Driver::get() {
  static std::once_flag once;
  static std::unique_ptr<Expected<Driver *>> opened;
  std::call_once(once, [] { opened = std::make_unique<Expected<Driver *>>(open("libcuda.so.1")); });
  return *opened;
}

Status Driver::check(CUresult r, const char *call, const std::string &context) const {
  if (r == 0)
    return Status::ok();
  const char *name = nullptr, *text = nullptr;
  if (api_.cuGetErrorName)
    api_.cuGetErrorName(r, &name);
  if (api_.cuGetErrorString)
    api_.cuGetErrorString(r, &text);
  return err(fmt::format("{} failed{}: {}: {}", call, context.empty() ? "" : " (" + context + ")",
                         name ? name : fmt::format("CUDA error {}", r),
                         text ? text : "no description"));
}

Expected<DeviceInfo> Driver::device(int ordinal) const {
  if (ordinal < 0 || ordinal >= deviceCount_)
    return err(fmt::format("CUDA device {} does not exist; this machine has {} (0 to {})", ordinal,
                           deviceCount_, deviceCount_ - 1));
  CUdevice dev = 0;
  WEFT_TRY(check(api_.cuDeviceGet(&dev, ordinal), "cuDeviceGet"));
  DeviceInfo info;
  info.ordinal = ordinal;
  char name[256] = {};
  WEFT_TRY(check(api_.cuDeviceGetName(name, sizeof name - 1, dev), "cuDeviceGetName"));
  info.name = name;
  WEFT_TRY(
      check(api_.cuDeviceGetAttribute(&info.smMajor, kAttrMajor, dev), "cuDeviceGetAttribute"));
  WEFT_TRY(
      check(api_.cuDeviceGetAttribute(&info.smMinor, kAttrMinor, dev), "cuDeviceGetAttribute"));
  WEFT_TRY(check(api_.cuDeviceGetAttribute(&info.multiprocessors, kAttrMultiprocessors, dev),
                 "cuDeviceGetAttribute"));
  WEFT_TRY(check(api_.cuDeviceTotalMem(&info.totalBytes, dev), "cuDeviceTotalMem"));
  WEFT_TRY(check(api_.cuDriverGetVersion(&info.driverVersion), "cuDriverGetVersion"));
  return info;
}

} // namespace weft::cuda
