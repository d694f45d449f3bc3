//===- examples/CommandLine.h - the examples' command lines ---------------===//
//
// The examples read their flags with CLI11 (Debian's libcli11-dev, as the tools do) and share
// one way of failing: a bad command line (an unknown option, a flag without its value, a value
// that is not a number or out of range) prints `<program>: <what is wrong>` and the usage to
// stderr and exits with status 2, before any training starts; --help prints the options and
// exits with 0.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

namespace weft::examples {

/// Adds an integer flag in [lo, hi]; `n` holds the default. A bad value reads
/// `--epochs takes an integer in [1, 2147483647], got 'abc'`.
inline CLI::Option *addInteger(CLI::App &app, const std::string &flag, int64_t &n,
                               const std::string &help, int64_t lo = 1,
                               int64_t hi = std::numeric_limits<int32_t>::max()) {
  auto check = [flag, lo, hi](const std::string &v) -> std::string {
    int64_t x = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || x < lo || x > hi)
      return fmt::format("{} takes an integer in [{}, {}], got '{}'", flag, lo, hi, v);
    return "";
  };
  return app.add_option(flag, n, help)
      ->capture_default_str()
      ->check(CLI::Validator(check, ""))
      ->type_name("N");
}

/// Adds a number flag in the open interval (lo, hi); `x` holds the default.
inline CLI::Option *addNumber(CLI::App &app, const std::string &flag, double &x,
                              const std::string &help, double lo, double hi) {
  auto check = [flag, lo, hi](const std::string &v) -> std::string {
    char *end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(d > lo && d < hi))
      return fmt::format("{} takes a number in ({}, {}), got '{}'", flag, lo, hi, v);
    return "";
  };
  return app.add_option(flag, x, help)
      ->capture_default_str()
      ->check(CLI::Validator(check, ""))
      ->type_name("X");
}

/// Parses argv into `app`'s options, or exits as the file comment says. `app` is named for the
/// messages: CLI::App app("what it does", "weft-example-...").
inline void parseCommandLine(CLI::App &app, int argc, char **argv) {
  app.allow_extras(); // an unknown option gets the message below, not CLI11's list
  std::string problem;
  try {
    app.parse(argc, argv);
    for (const std::string &extra : app.remaining()) {
      problem = extra.size() > 1 && extra[0] == '-'
                    ? fmt::format("unknown option '{}'", extra)
                    : fmt::format("unexpected argument '{}'", extra);
      break;
    }
  } catch (const CLI::CallForHelp &) {
    std::fputs(app.help().c_str(), stdout);
    std::exit(0);
  } catch (const CLI::ArgumentMismatch &e) {
    // CLI11 says "--epochs: 1 required N missing" for a flag without its value.
    std::string what = e.what();
    problem = what.find(" missing") == std::string::npos
                  ? what
                  : fmt::format("{} needs a value", what.substr(0, what.find(':')));
  } catch (const CLI::ValidationError &e) {
    // CLI11 prefixes the message with "--epochs: "; ours above name the flag already.
    std::string what = e.what();
    size_t colon = what.find(": ");
    problem = colon != std::string::npos && what.compare(colon + 2, 2, "--") == 0
                  ? what.substr(colon + 2)
                  : what;
  } catch (const CLI::ParseError &e) {
    problem = e.what();
  }
  if (problem.empty())
    return;
  std::fprintf(stderr, "%s: %s\n%s", app.get_name().c_str(), problem.c_str(), app.help().c_str());
  std::exit(2);
}

} // namespace weft::examples
