//===- backends/Registry.cpp - the list of backends -----------------------===//
#include "backends/Registry.h"

#include "backends/reference/ReferenceBackend.h"
#if WEFT_HAVE_CPU_BACKEND
#include "backends/cpu/CpuBackend.h"
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

Expected<const Backend *> findBackend(std::string_view name) {
  std::string known;
  for (const Backend *b : registeredBackends()) {
    if (b->name() == name)
      return b;
    known += fmt::format("{}{}", known.empty() ? "" : ", ", b->name());
  }
  return err(fmt::format("unknown backend '{}' (this build has: {})", name, known));
}

const Backend &referenceBackend() { return reference::backend(); }

} // namespace weft::backends
