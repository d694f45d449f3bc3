//===- runtime/ReadFile.cpp -----------------------------------------------===//
#include "runtime/ReadFile.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace weft {

Expected<std::string> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return err(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    return err(fmt::format("cannot read '{}'", path));
  return ss.str();
}

} // namespace weft
