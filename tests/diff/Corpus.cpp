//===- tests/diff/Corpus.cpp - reading and writing corpus files -----------===//
#include "tests/diff/Corpus.h"

#include "ir/Parser.h"
#include "ir/Printer.h"

#include <fmt/format.h>

#include <sstream>

namespace weft::difftest {

std::string formatCorpusCase(const CorpusCase &c) {
  std::string dims;
  for (const auto &[sym, n] : c.dims)
    dims += fmt::format("{}{}={}", dims.empty() ? "" : " ", sym, n);
  std::string out = "// A difftest failure, minimized (docs/Testing.md).\n";
  out += fmt::format("// seed: {}\n// dims: {}\n// inputs: {}\n", c.seed, dims, c.inputSeed);
  out += fmt::format("// failure: {}\n", c.failure);
  if (c.knownFailing)
    out += fmt::format("// known-failing: {}\n", *c.knownFailing);
  return out + ir::print(*c.module);
}

Expected<CorpusCase> parseCorpusCase(const std::string &text, const std::string &name) {
  CorpusCase c;
  bool haveDims = false, haveInputs = false;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("// ", 0) != 0)
      continue;
    size_t colon = line.find(": ");
    if (colon == std::string::npos)
      continue;
    std::string key = line.substr(3, colon - 3), value = line.substr(colon + 2);
    try {
      if (key == "dims") {
        haveDims = true;
        std::istringstream binds(value);
        for (std::string b; binds >> b;) {
          size_t eq = b.find('=');
          if (eq == std::string::npos)
            return err(fmt::format("{}: dims: '{}' is not SYMBOL=N", name, b));
          c.dims[b.substr(0, eq)] = std::stoll(b.substr(eq + 1));
        }
      } else if (key == "inputs") {
        haveInputs = true;
        c.inputSeed = std::stoull(value);
      } else if (key == "seed") {
        c.seed = std::stoull(value);
      } else if (key == "failure") {
        c.failure = value;
      } else if (key == "known-failing") {
        c.knownFailing = value;
      }
    } catch (const std::exception &) {
      return err(fmt::format("{}: '{}' is not a number in the '{}' line", name, value, key));
    }
  }
  if (!haveDims || !haveInputs)
    return err(fmt::format("{}: a corpus file needs '// dims:' and '// inputs:' lines", name));
  auto m = ir::parseModule(text, name);
  WEFT_TRY(m.status());
  c.module = std::move(*m);
  return c;
}

} // namespace weft::difftest
