//===- tools/weft-run/Options.h - command line of weft-run ----------------===//
#pragma once

#include "ir/Type.h"
#include "runtime/Support.h"

#include <map>
#include <string>

namespace weft::tool {

struct RunOptions {
  std::string file;
  std::string func;                          ///< empty: the module's first function
  std::string backend = "reference";         ///< a registered backend (backends/Registry.h)
  std::map<std::string, std::string> inputs; ///< parameter name (without %) -> .npy path
  int64_t seed = 0;
  ir::DimBindings binds;
  std::string saveDir;
  bool print = false;
  bool help = false;
};

/// The usage text printed by --help.
extern const char *const kUsage;

/// Parses argv (without argv[0]); errors say which argument is wrong.
Expected<RunOptions> parseArgs(int argc, const char *const *argv);

} // namespace weft::tool
