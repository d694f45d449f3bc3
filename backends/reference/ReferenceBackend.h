//===- backends/reference/ReferenceBackend.h - the interpreter as a Backend ===//
#pragma once

#include "backends/Backend.h"

namespace weft::reference {

/// The reference interpreter behind the backend interface: compile() verifies and copies the
/// module, run() interprets it (reference::run). The oracle the other backends are checked
/// against.
const backends::Backend &backend();

} // namespace weft::reference
