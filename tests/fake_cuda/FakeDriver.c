/* A stand-in for libcuda.so.1. By default, a machine with NVIDIA's driver but no usable GPU:
   cuInit fails with CUDA_ERROR_NO_DEVICE, or, when WEFT_FAKE_CUDA_INIT=ok, succeeds and the
   driver counts 0 GPUs; nothing else may be called.

   With WEFT_FAKE_CUDA_INIT=host it has one GPU (sm_90) whose memory is the host's: memory and
   copies work, modules and kernels are accepted, and a launch runs nothing but is counted. So
   the runtime's loader (runtime/CudaAot.h) can be tested on what it moves and when; the
   counters below say how many copies of each kind and launches there were. */
#include <stdlib.h>
#include <string.h>

#define NO_DEVICE 100
#define UNKNOWN 999

typedef unsigned long long ptr_t;

long weft_fake_cuda_uploads = 0, weft_fake_cuda_downloads = 0, weft_fake_cuda_device_copies = 0,
     weft_fake_cuda_launches = 0, weft_fake_cuda_allocations = 0;

static int host(void) {
  const char *init = getenv("WEFT_FAKE_CUDA_INIT");
  return init && strcmp(init, "host") == 0;
}
static int onHost(void) { return host() ? 0 : UNKNOWN; }

int cuInit(unsigned flags) {
  (void)flags;
  const char *init = getenv("WEFT_FAKE_CUDA_INIT");
  return init && (strcmp(init, "ok") == 0 || strcmp(init, "host") == 0) ? 0 : NO_DEVICE;
}
int cuDeviceGetCount(int *n) {
  *n = host() ? 1 : 0;
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
int cuDriverGetVersion(int *v) {
  *v = 12040;
  return onHost();
}
int cuDeviceGet(int *dev, int ordinal) {
  *dev = ordinal;
  return onHost();
}
int cuDeviceGetName(char *name, int len, int dev) {
  (void)dev;
  strncpy(name, "weft fake GPU", (size_t)len);
  return onHost();
}
int cuDeviceGetAttribute(int *v, int attribute, int dev) {
  (void)dev;
  *v = attribute == 75 ? 9 : attribute == 76 ? 0 : attribute == 16 ? 4 : 0;
  return onHost();
}
int cuDeviceTotalMem_v2(size_t *bytes, int dev) {
  (void)dev;
  *bytes = (size_t)1 << 30;
  return onHost();
}
int cuDevicePrimaryCtxRetain(void **context, int dev) {
  (void)dev;
  *context = (void *)1;
  return onHost();
}
int cuDevicePrimaryCtxRelease_v2(int dev) {
  (void)dev;
  return onHost();
}
int cuCtxSetCurrent(void *context) {
  (void)context;
  return onHost();
}
int cuModuleLoadDataEx(void **module, const void *image, unsigned n, int *options, void **values) {
  (void)image, (void)n, (void)options, (void)values;
  *module = (void *)1;
  return onHost();
}
int cuModuleUnload(void *module) {
  (void)module;
  return onHost();
}
int cuModuleGetFunction(void **function, void *module, const char *name) {
  (void)module, (void)name;
  *function = (void *)1;
  return onHost();
}
int cuMemAlloc_v2(ptr_t *p, size_t bytes) {
  if (!host())
    return UNKNOWN;
  ++weft_fake_cuda_allocations;
  *p = (ptr_t)(size_t)malloc(bytes ? bytes : 1);
  return *p ? 0 : UNKNOWN;
}
int cuMemFree_v2(ptr_t p) {
  free((void *)(size_t)p);
  return onHost();
}
int cuMemcpyHtoDAsync_v2(ptr_t to, const void *from, size_t bytes, void *stream) {
  (void)stream;
  ++weft_fake_cuda_uploads;
  memcpy((void *)(size_t)to, from, bytes);
  return onHost();
}
int cuMemcpyDtoHAsync_v2(void *to, ptr_t from, size_t bytes, void *stream) {
  (void)stream;
  ++weft_fake_cuda_downloads;
  memcpy(to, (const void *)(size_t)from, bytes);
  return onHost();
}
int cuMemcpyDtoDAsync_v2(ptr_t to, ptr_t from, size_t bytes, void *stream) {
  (void)stream;
  ++weft_fake_cuda_device_copies;
  memmove((void *)(size_t)to, (const void *)(size_t)from, bytes);
  return onHost();
}
int cuMemsetD8Async(ptr_t to, unsigned char value, size_t bytes, void *stream) {
  (void)stream;
  memset((void *)(size_t)to, value, bytes);
  return onHost();
}
int cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  *stream = (void *)1;
  return onHost();
}
int cuStreamDestroy_v2(void *stream) {
  (void)stream;
  return onHost();
}
int cuStreamSynchronize(void *stream) {
  (void)stream;
  return onHost();
}
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                   unsigned bz, unsigned shared, void *stream, void **params, void **extra) {
  (void)f, (void)gx, (void)gy, (void)gz, (void)bx, (void)by, (void)bz, (void)shared;
  (void)stream, (void)params, (void)extra;
  ++weft_fake_cuda_launches;
  return onHost();
}
