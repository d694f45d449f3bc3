//===- tools/weft-run/Options.cpp -----------------------------------------===//
#include "Options.h"

#include <fmt/format.h>

#include <charconv>

namespace weft::tool {

const char *const kUsage = R"(usage: weft-run FILE.wir [options]

Runs a function of an IR file on the reference interpreter or another backend.

options:
  --func NAME           the function to run (default: the first one)
  --backend NAME        the backend to run it on: reference (the default) or cpu, as this
                        build has them
  --input NAME=FILE     read parameter %NAME from a .npy file (repeatable)
  --seed N              seed for the inputs not given: floats uniform in [-1, 1),
                        integers uniform in {0, 1, 2, 3}, i1 uniform (default 0)
  --bind SYM=N          bind symbolic dim SYM to N (repeatable); dims of parameters
                        read from files are bound from their shapes
  --save-dir DIR        write each result to DIR/<name>.npy
  --print               print each result (the default without --save-dir)
  --help                show this text
)";

namespace {

Expected<int64_t> parseInt(std::string_view s, const std::string &what) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty())
    return err(fmt::format("{} expects an integer, got '{}'", what, s));
  return v;
}

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
  for (int i = 0; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> Expected<std::string> {
      if (i + 1 >= argc)
        return err(fmt::format("{} needs a value", a));
      return std::string(argv[++i]);
    };
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (a == "--print") {
      o.print = true;
    } else if (a == "--func" || a == "--backend" || a == "--save-dir" || a == "--seed" ||
               a == "--input" || a == "--bind") {
      auto v = value();
      WEFT_TRY(v.status());
      if (a == "--func") {
        o.func = *v;
      } else if (a == "--backend") {
        o.backend = *v;
      } else if (a == "--save-dir") {
        o.saveDir = *v;
      } else if (a == "--seed") {
        auto n = parseInt(*v, "--seed");
        WEFT_TRY(n.status());
        o.seed = *n;
      } else if (a == "--input") {
        auto kv = splitPair(*v, "--input", "NAME=FILE.npy");
        WEFT_TRY(kv.status());
        std::string name = kv->first[0] == '%' ? kv->first.substr(1) : kv->first;
        if (!o.inputs.emplace(name, kv->second).second)
          return err(fmt::format("--input {} is given twice", name));
      } else {
        auto kv = splitPair(*v, "--bind", "SYM=N");
        WEFT_TRY(kv.status());
        auto n = parseInt(kv->second, "--bind " + kv->first);
        WEFT_TRY(n.status());
        if (*n < 0)
          return err(fmt::format("--bind {}={}: a dim size must not be negative", kv->first, *n));
        o.binds[kv->first] = *n;
      }
    } else if (a.size() > 1 && a[0] == '-') {
      return err(fmt::format("unknown option '{}' (see --help)", a));
    } else if (o.file.empty()) {
      o.file = a;
    } else {
      return err(fmt::format("unexpected argument '{}': only one input file is read", a));
    }
  }
  if (o.file.empty() && !o.help)
    return err("no input file (see --help)");
  if (o.saveDir.empty())
    o.print = true;
  return o;
}

} // namespace weft::tool
