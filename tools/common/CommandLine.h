//===- tools/common/CommandLine.h - what every tool's command line shares --===//
//
// The tools parse their options with CLI11 (Debian's libcli11-dev). This file
// holds what they share: `--bind NAME=N` with one meaning and one message in
// every tool, and a parse that turns CLI11's exceptions into a Diag naming the
// bad flag (and an unknown option into "unknown option '...'").
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Type.h"
#include "runtime/Support.h"

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace weft::tool {

/// Adds `--bind NAME=N` (repeatable, also `--bind=NAME=N`) to `app`; the raw pairs land in `raw`
/// for parseBinds.
CLI::Option *addBindOption(CLI::App &app, std::vector<std::string> &raw, const std::string &help);

/// The bindings of `--bind` pairs; an error quotes the first that is not NAME=N with N >= 0.
Expected<ir::DimBindings> parseBinds(const std::vector<std::string> &raw);

/// Parses `args` (without the program name) with `app`, which must allow extras. A short option
/// written `-o=FILE` means `-o FILE`. Errors name the flag, or the first unknown option.
Status parseCommandLine(CLI::App &app, std::vector<std::string> args);

/// argv[1..argc) as strings.
std::vector<std::string> argumentsOf(int argc, const char *const *argv);

} // namespace weft::tool
