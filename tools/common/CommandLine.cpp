//===- tools/common/CommandLine.cpp ---------------------------------------===//
#include "tools/common/CommandLine.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace weft::tool {

CLI::Option *addBindOption(CLI::App &app, std::vector<std::string> &raw, const std::string &help) {
  // One value per occurrence: `--bind N=2 file.wir` leaves the file to the positional.
  return app.add_option("--bind", raw, help)->allow_extra_args(false);
}

Expected<ir::DimBindings> parseBinds(const std::vector<std::string> &raw) {
  ir::DimBindings binds;
  for (const std::string &kv : raw) {
    size_t eq = kv.find('=');
    int64_t n = 0;
    const char *end = kv.data() + kv.size();
    if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size() ||
        std::from_chars(kv.data() + eq + 1, end, n).ptr != end || n < 0)
      return err(fmt::format("--bind expects NAME=N with N >= 0, got '{}'", kv));
    binds[kv.substr(0, eq)] = n;
  }
  return binds;
}

Status parseCommandLine(CLI::App &app, std::vector<std::string> args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a.size() > 2 && a[0] == '-' && a[1] != '-' && a[2] == '=') { // -o=FILE
      std::string value = a.substr(3);
      args[i] = a.substr(0, 2);
      args.insert(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, value);
      ++i;
    }
  }
  std::reverse(args.begin(), args.end()); // CLI11 takes a vector last argument first
  try {
    app.parse(args);
  } catch (const CLI::ParseError &e) {
    return err(e.what());
  }
  for (const std::string &extra : app.remaining())
    if (extra.size() > 1 && extra[0] == '-')
      return err(fmt::format("unknown option '{}' (see --help)", extra));
  return {};
}

std::vector<std::string> argumentsOf(int argc, const char *const *argv) {
  return std::vector<std::string>(argv + std::min(argc, 1), argv + argc);
}

} // namespace weft::tool
