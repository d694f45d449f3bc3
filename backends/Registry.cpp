//===- backends/Registry.cpp - the list of backends -----------------------===//
#include "backends/Registry.h"

#include "backends/reference/ReferenceBackend.h"
#if WEFT_HAVE_CPU_BACKEND
#include "backends/cpu/CpuBackend.h"
#endif
#if WEFT_HAVE_CUDA_BACKEND
#include "backends/cuda/CudaBackend.h"
#endif

#include <fmt/format.h>

#include <vector>

namespace weft::backends {

std::span<const Backend *const> registeredBackends() {
  static const std::vector<const Backend *> all = {
      &reference::backend(),
#if WEFT_HAVE_CPU_BACKEND
      &cpu::backend(),
#endif
  };
  return all;
}

std::span<const Backend *const> partialBackends() {
  static const std::vector<const Backend *> all = {
#if WEFT_HAVE_CUDA_BACKEND
      &cuda::backend(),
#endif
  };
  return all;
}

Expected<const Backend *> findBackend(std::string_view name) {
  std::string known;
  for (auto list : {registeredBackends(), partialBackends()})
    for (const Backend *b : list) {
      if (b->name() == name)
        return b;
      known += fmt::format("{}{}", known.empty() ? "" : ", ", b->name());
    }
  return err(fmt::format("unknown backend '{}' (this build has: {})", name, known));
}

const Backend &referenceBackend() { return reference::backend(); }

} // namespace weft::backends
