//===- backends/Registry.h - every backend this build has -----------------===//
//
// The backends are listed by hand in Registry.cpp, each behind the CMake
// target that builds it: no static initializers, which a static library would
// drop unseen. A new backend (cuda) joins tests, tools and examples by adding
// one line there.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/Backend.h"

#include <span>
#include <string_view>

namespace weft::backends {

/// Every backend built, the reference interpreter first.
std::span<const Backend *const> registeredBackends();

/// The registered backend named `name`, or an error listing the registered names.
Expected<const Backend *> findBackend(std::string_view name);

/// The reference interpreter: the oracle every other backend is checked against.
const Backend &referenceBackend();

} // namespace weft::backends
