//===- runtime/AtomicFile.h - files that appear whole or not at all -------===//
#pragma once

#include "runtime/Support.h"

#include <functional>
#include <string>
#include <string_view>

namespace weft {

/// The steps of an atomic write, in the order they happen.
enum class AtomicWriteStep {
  TempWritten,  ///< every byte is in the temporary file
  TempSynced,   ///< the temporary file is on disk (fsync) and closed
  Renamed,      ///< the temporary file has replaced the target
  FolderSynced, ///< the folder's new entry is on disk (fsync of the folder)
};

/// Called after each step with the temporary file's path: lets a test watch a write, or pause
/// it so that a SIGKILL lands inside it (tests/checkpoint).
using AtomicWriteObserver = std::function<void(AtomicWriteStep, const std::string &tempPath)>;

/// Writes `bytes` to `path` through a temporary file in the same directory that is flushed to
/// disk and renamed over `path`, then flushes the directory, so that after a crash or power
/// loss a reader sees the old file or the new one, never a part, and a completed write stays.
/// The file gets mode 0644. Errors name the file and the reason.
Status writeFileAtomically(const std::string &path, std::string_view bytes,
                           const AtomicWriteObserver &observer = {});

} // namespace weft
