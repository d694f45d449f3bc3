#include "ir/Printer.h"
#include "tests/diff/Corpus.h"
#include "tests/diff/DiffRunner.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace diff_CorpusReplayTest {

using namespace weft;
using namespace weft::difftest;

namespace {

std::vector<std::filesystem::path> corpusFiles() {
  std::vector<std::filesystem::path> files;
  for (const auto &e :
       std::filesystem::directory_iterator(std::string(WEFT_TEST_DATA_DIR) + "/diff-corpus"))
    if (e.path().extension() == ".wir")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string readFile(const std::filesystem::path &p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("every minimized failure in tests/data/diff-corpus stays fixed") {
  std::vector<std::filesystem::path> files = corpusFiles();
  CHECK(!files.empty());
  for (const auto &path : files) {
    std::string name = path.filename().string();
    CAPTURE(name);
    auto c = parseCorpusCase(readFile(path), name);
    REQUIRE_MESSAGE(c.isOk(), c.diag().str());
    auto failure = runDifferential(*c->module, c->dims, c->inputSeed, defaultVariants());
    if (c->knownFailing) {
      // Still broken, as its header says; when this fails, the bug is fixed: drop the line.
      CHECK_MESSAGE(failure.has_value(),
                    "fixed? remove its known-failing line: ", *c->knownFailing);
      continue;
    }
    if (failure)
      FAIL_CHECK(failure->str());
  }
}

TEST_CASE("a corpus file without its dims or inputs line is an error naming the file") {
  auto c = parseCorpusCase("// inputs: 3\nfunc @f() -> () {\n  return\n}\n", "x.wir");
  REQUIRE_FALSE(c.isOk());
  CHECK(c.diag().str() == "x.wir: a corpus file needs '// dims:' and '// inputs:' lines");
  auto bad = parseCorpusCase("// dims: B=x\n// inputs: 3\n", "y.wir");
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.diag().str() == "y.wir: 'B=x' is not a number in the 'dims' line");
}

TEST_CASE("a corpus file reads back as it was written") {
  auto parsed =
      parseCorpusCase("// seed: 9\n// dims: B=2 T=0\n// inputs: 9\n// failure: jit: value: x\n"
                      "// known-failing: why\nfunc @f() -> () {\n  return\n}\n",
                      "z.wir");
  REQUIRE_MESSAGE(parsed.isOk(), parsed.diag().str());
  CHECK(parsed->dims == ir::DimBindings{{"B", 2}, {"T", 0}});
  CHECK(parsed->inputSeed == 9);
  CHECK(parsed->seed == 9);
  CHECK(parsed->failure == "jit: value: x");
  CHECK(parsed->knownFailing == std::optional<std::string>("why"));
  CHECK(formatCorpusCase(*parsed) == "// A difftest failure, minimized (docs/Testing.md).\n"
                                     "// seed: 9\n// dims: B=2 T=0\n// inputs: 9\n"
                                     "// failure: jit: value: x\n// known-failing: why\n"
                                     "func @f() -> () {\n  return\n}\n");
}

} // namespace diff_CorpusReplayTest
