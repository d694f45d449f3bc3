//===- runtime/CudaDriver.h - the CUDA driver, opened at run time ---------===//
//
// weft builds with no CUDA toolkit: the driver library (libcuda.so.1, which
// comes with NVIDIA's kernel driver, not the toolkit) is opened with dlopen
// the first time a CUDA device is asked for, and the few entry points weft
// uses are looked up by name. On a machine without it, or without a GPU,
// Driver::get() returns an error that starts with "no CUDA device:" and says
// why; nothing else in weft notices.
//
// The types below mirror the driver API's ABI (cuda.h) for those entry points
// only; every call's CUresult becomes a weft error naming the call and, where
// the caller says, the op.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace weft::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = uint64_t;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;

/// The driver's entry points weft calls, looked up once.
struct DriverApi {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int *);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDeviceTotalMem)(size_t *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *, void **);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, CUstream, void **, void **);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
};

/// A GPU as weft sees it.
struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int smMajor = 0, smMinor = 0;
  int multiprocessors = 0;
  size_t totalBytes = 0;
  int driverVersion = 0;
  /// "sm_90": the PTX target weft compiles for on this device.
  std::string smName() const;
};

class Driver {
public:
  /// The driver, opened and initialized on first use (thread-safe), or the reason there is none:
  /// "no CUDA device: libcuda.so.1 cannot be opened (...)", "no CUDA device: cuInit failed
  /// (CUDA_ERROR_NO_DEVICE: ...)", "no CUDA device: the driver sees 0 GPUs".
  static Expected<Driver *> get();
  /// The same search with another library name (tests).
  static Expected<Driver *> open(const std::string &library);

  const DriverApi &api() const { return api_; }
  int deviceCount() const { return deviceCount_; }
  Expected<DeviceInfo> device(int ordinal) const;

  /// OK, or an error "<call> failed<: context>: CUDA_ERROR_...: <driver's words>".
  Status check(CUresult r, const char *call, const std::string &context = {}) const;

private:
  Driver() = default;
  void *handle_ = nullptr;
  DriverApi api_{};
  int deviceCount_ = 0;
};

} // namespace weft::cuda
