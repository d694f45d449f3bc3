//===- tests/unit/RequireOk.h - doctest assertions on Status and Expected --===//
//
// REQUIRE_MESSAGE(r, r.diag().str()) reads the error of a result that may hold a value:
// doctest builds the message of every assertion it reports, and with -s (--success) it
// reports passing ones too, where diag() of a success stops the process as a bug
// (runtime/Support.h). These assertions read the error only from a result that holds one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <doctest/doctest.h>

#include <string>

namespace weft::testing {

/// The located error message of `r` (a Status or an Expected), or "" when it holds no error.
template <typename Result> std::string errorText(const Result &r) {
  return r.isOk() ? std::string() : r.diag().str();
}

} // namespace weft::testing

/// Requires (checks) that `r` holds no error, and shows the error when it does.
#define REQUIRE_OK(r) REQUIRE_MESSAGE((r).isOk(), ::weft::testing::errorText(r))
#define CHECK_OK(r) CHECK_MESSAGE((r).isOk(), ::weft::testing::errorText(r))
