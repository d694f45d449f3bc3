//===- tests/unit/frontend/nn/ThrownMessage.h - what a DSL call threw -------===//
#pragma once

#include "runtime/Support.h"

#include <string>

namespace weft::testing {

/// The message of the weft::Error that `f()` throws ("file:line:col: ..."), or "" if it throws
/// none, so that one test can check several parts of it.
template <class F> std::string thrownMessage(F &&f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace weft::testing
