//===- backends/Registry.h - every backend this build has -----------------===//
//
// The backends are listed by hand in Registry.cpp, each behind the CMake
// target that builds it: no static initializers, which a static library would
// drop unseen. A new backend (cuda) joins tests, tools and examples by adding
// one line there; one that compiles only part of the IR so far is listed
// as partial until it is complete.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/Backend.h"

#include <span>
#include <string_view>

namespace weft::backends {

/// Every complete backend built, the reference interpreter first: the ones the parity suites
/// run.
std::span<const Backend *const> registeredBackends();

/// Backends built that compile only part of the IR so far (cuda): tools and examples select
/// them by name, the parity suites do not run them.
std::span<const Backend *const> partialBackends();

/// The backend named `name` (registered or partial), or an error listing the names.
Expected<const Backend *> findBackend(std::string_view name);

/// The reference interpreter: the oracle every other backend is checked against.
const Backend &referenceBackend();

} // namespace weft::backends
