/* A stand-in for libcuda.so.1 on a machine with NVIDIA's driver but no usable GPU: it exports
   every entry point weft looks up; cuInit fails with CUDA_ERROR_NO_DEVICE, or, when
   WEFT_FAKE_CUDA_INIT=ok, succeeds and the driver counts 0 GPUs. Nothing else is called. */
#include <stdlib.h>
#include <string.h>

#define NO_DEVICE 100

static int fail(void) { return 999; }

int cuInit(unsigned flags) {
  (void)flags;
  const char *init = getenv("WEFT_FAKE_CUDA_INIT");
  return init && strcmp(init, "ok") == 0 ? 0 : NO_DEVICE;
}
int cuDeviceGetCount(int *n) {
  *n = 0;
  return 0;
}
int cuGetErrorName(int r, const char **name) {
  *name = r == NO_DEVICE ? "CUDA_ERROR_NO_DEVICE" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
int cuGetErrorString(int r, const char **text) {
  *text = r == NO_DEVICE ? "no CUDA-capable device is detected" : "unknown error";
  return 0;
}
int cuDriverGetVersion(void) { return fail(); }
int cuDeviceGet(void) { return fail(); }
int cuDeviceGetName(void) { return fail(); }
int cuDeviceGetAttribute(void) { return fail(); }
int cuDeviceTotalMem_v2(void) { return fail(); }
int cuDevicePrimaryCtxRetain(void) { return fail(); }
int cuDevicePrimaryCtxRelease_v2(void) { return fail(); }
int cuCtxSetCurrent(void) { return fail(); }
int cuModuleLoadDataEx(void) { return fail(); }
int cuModuleUnload(void) { return fail(); }
int cuModuleGetFunction(void) { return fail(); }
int cuMemAlloc_v2(void) { return fail(); }
int cuMemFree_v2(void) { return fail(); }
int cuMemcpyHtoDAsync_v2(void) { return fail(); }
int cuMemcpyDtoHAsync_v2(void) { return fail(); }
int cuMemcpyDtoDAsync_v2(void) { return fail(); }
int cuMemsetD8Async(void) { return fail(); }
int cuStreamCreate(void) { return fail(); }
int cuStreamDestroy_v2(void) { return fail(); }
int cuStreamSynchronize(void) { return fail(); }
int cuLaunchKernel(void) { return fail(); }
