//===- runtime/Support.cpp ------------------------------------------------===//
#include "runtime/Support.h"

#include <fmt/format.h>

namespace weft {

std::string Loc::str() const {
  if (!known())
    return {};
  std::string f = file.empty() ? "<input>" : file;
  return column ? fmt::format("{}:{}:{}", f, line, column) : fmt::format("{}:{}", f, line);
}

} // namespace weft
