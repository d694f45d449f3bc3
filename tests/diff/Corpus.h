//===- tests/diff/Corpus.h - minimized failures kept as .wir files --------===//
//
// A corpus file is IR text headed by `//` comment lines of the form
// `// key: value`: dims (B=2 T=3), inputs (the input seed, DiffRunner.h),
// seed (the generator seed it came from), failure (what failed) and, for a
// bug not fixed yet, known-failing (why). The parser skips the comments.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

#include <memory>
#include <optional>
#include <string>

namespace weft::difftest {

struct CorpusCase {
  std::unique_ptr<ir::Module> module;
  ir::DimBindings dims;
  uint64_t inputSeed = 0;
  uint64_t seed = 0;
  std::string failure;
  /// Set for a failure that is expected until its bug is fixed: the reason.
  std::optional<std::string> knownFailing;
};

/// The text of a corpus file for `c`.
std::string formatCorpusCase(const CorpusCase &c);

/// Reads a corpus file's text; `name` is used in error messages.
Expected<CorpusCase> parseCorpusCase(const std::string &text, const std::string &name);

} // namespace weft::difftest
