//===- runtime/AtomicFile.h - files that appear whole or not at all -------===//
#pragma once

#include "runtime/Support.h"

#include <string>
#include <string_view>

namespace weft {

/// Writes `bytes` to `path` through a temporary file in the same directory that is flushed to
/// disk and renamed over `path`, so a reader sees the old file or the new one, never a part.
/// The file gets mode 0644. Errors name the file and the reason.
Status writeFileAtomically(const std::string &path, std::string_view bytes);

} // namespace weft
