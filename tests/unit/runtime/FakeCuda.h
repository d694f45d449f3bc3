//===- tests/unit/runtime/FakeCuda.h - the stand-in driver's GPU, for tests -===//
//
// tests/fake_cuda's libcuda.so.1 stand-in with WEFT_FAKE_CUDA_INIT=host: one GPU whose memory
// is the host's, where copies are real and launches run nothing but are counted. HostGpu opens
// it for one test; Moves reads its counters of copies by kind.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/CudaDriver.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <dlfcn.h>
#include <memory>

namespace weft::testing {

/// The stand-in's counters of copies, by kind.
struct Moves {
  long uploads = 0, downloads = 0, deviceCopies = 0;
  bool operator==(const Moves &) const = default;
};

/// The copies made since the process started.
inline Moves movesSoFar() {
  void *lib = dlopen(WEFT_FAKE_CUDA, RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(lib);
  auto counter = [&](const char *name) { return *static_cast<long *>(dlsym(lib, name)); };
  Moves m{counter("weft_fake_cuda_uploads"), counter("weft_fake_cuda_downloads"),
          counter("weft_fake_cuda_device_copies")};
  dlclose(lib);
  return m;
}

/// The copies made since `before` was read.
inline Moves since(const Moves &before) {
  Moves now = movesSoFar();
  return {now.uploads - before.uploads, now.downloads - before.downloads,
          now.deviceCopies - before.deviceCopies};
}

/// The stand-in's GPU, open for the lifetime of this object (which must outlive every function
/// loaded on it).
class HostGpu {
public:
  HostGpu() {
    ::setenv("WEFT_FAKE_CUDA_INIT", "host", 1);
    auto opened = cuda::Driver::open(WEFT_FAKE_CUDA);
    REQUIRE(opened);
    driver_.reset(*opened); // open() hands over a driver of its own
  }
  ~HostGpu() { ::unsetenv("WEFT_FAKE_CUDA_INIT"); }
  HostGpu(const HostGpu &) = delete;
  HostGpu &operator=(const HostGpu &) = delete;
  const cuda::Driver *driver() const { return driver_.get(); }

private:
  std::unique_ptr<cuda::Driver> driver_;
};

} // namespace weft::testing
