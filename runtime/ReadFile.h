//===- runtime/ReadFile.h - a whole file's bytes ---------------------------===//
#pragma once

#include "runtime/Support.h"

#include <string>

namespace weft {

/// The bytes of the file at `path`, or an error naming it ("cannot open 'x': No such file or
/// directory", "cannot read 'x'").
Expected<std::string> readFile(const std::string &path);

} // namespace weft
