//===- tools/weft-run/Options.cpp -----------------------------------------===//
#include "Options.h"

#include "tools/common/CommandLine.h"

#include <fmt/format.h>

namespace weft::tool {

const char *const kUsage = R"(usage: weft-run FILE.wir [options]

Runs a function of an IR file on the reference interpreter or another backend.

options:
  --func NAME           the function to run (default: the first one)
  --backend NAME        the backend to run it on, as this build has them: reference (the
                        default), cpu, or cuda (a GPU; elementwise functions so far)
  --input NAME=FILE     read parameter %NAME from a .npy file (repeatable)
  --seed N              seed for the inputs not given: floats uniform in [-1, 1),
                        integers uniform in {0, 1, 2, 3}, i1 uniform (default 0)
  --bind NAME=N         bind symbolic dim NAME to N (repeatable); dims of parameters
                        read from files are bound from their shapes
  --save-dir DIR        write each result to DIR/<name>.npy
  --print               print each result (the default without --save-dir)
  --help                show this text
)";

namespace {

/// Splits "KEY=VALUE"; both parts must be non-empty.
Expected<std::pair<std::string, std::string>> splitPair(std::string_view s, const char *flag,
                                                        const char *form) {
  size_t eq = s.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == s.size())
    return err(fmt::format("{} expects {}, got '{}'", flag, form, s));
  return std::pair{std::string(s.substr(0, eq)), std::string(s.substr(eq + 1))};
}

} // namespace

Expected<RunOptions> parseArgs(int argc, const char *const *argv) {
  RunOptions o;
  std::vector<std::string> files, inputs, binds;
  CLI::App app("weft-run", "weft-run");
  app.set_help_flag(); // kUsage is the help text
  app.allow_extras();
  app.add_flag("-h,--help", o.help);
  app.add_flag("--print", o.print);
  app.add_option("--func", o.func);
  app.add_option("--backend", o.backend);
  app.add_option("--save-dir", o.saveDir);
  app.add_option("--seed", o.seed);
  app.add_option("--input", inputs)->allow_extra_args(false);
  tool::addBindOption(app, binds, "bind symbolic dim NAME to N");
  app.add_option("file", files);
  // argv holds the arguments only; parseCommandLine wants them without the program name.
  std::vector<std::string> args(argv, argv + argc);
  WEFT_TRY(tool::parseCommandLine(app, std::move(args)));
  if (files.size() > 1)
    return err(fmt::format("unexpected argument '{}': only one input file is read", files[1]));
  if (!files.empty())
    o.file = files.front();
  for (const std::string &in : inputs) {
    auto kv = splitPair(in, "--input", "NAME=FILE.npy");
    WEFT_TRY(kv.status());
    std::string name = kv->first[0] == '%' ? kv->first.substr(1) : kv->first;
    if (!o.inputs.emplace(name, kv->second).second)
      return err(fmt::format("--input {} is given twice", name));
  }
  auto bound = tool::parseBinds(binds);
  WEFT_TRY(bound.status());
  o.binds = std::move(*bound);
  if (o.file.empty() && !o.help)
    return err("no input file (see --help)");
  if (o.saveDir.empty())
    o.print = true;
  return o;
}

} // namespace weft::tool
