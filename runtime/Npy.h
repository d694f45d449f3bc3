//===- runtime/Npy.h - NumPy .npy files -----------------------------------===//
//
// Reads .npy format versions 1.0, 2.0 and 3.0 and writes 1.0 (2.0 when the
// header needs more than 64 KiB). Supported dtypes: <f4 <f8 <i4 <i8 |b1, in C
// order and little-endian; anything else is an error naming what was found.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/Support.h"

#include <string>

namespace weft {

/// Reads the array stored in the .npy file at `path`. A missing file, bad magic, an
/// unsupported dtype or layout, or truncated data is an error naming the file.
Expected<Array> readNpy(const std::string &path);

/// Writes `a` to `path` atomically: the data goes to a temporary file in the same directory,
/// which is flushed to disk and then renamed over `path`.
Status writeNpy(const std::string &path, const Array &a);

/// The .npy bytes for `a` (what writeNpy stores).
std::string encodeNpy(const Array &a);
/// Decodes .npy bytes; `what` names the source in error messages.
Expected<Array> decodeNpy(const std::string &bytes, const std::string &what);

} // namespace weft
