//===- tests/unit/runtime/AtomicFileTest.cpp - writes that appear whole ---===//
#include "runtime/AtomicFile.h"

#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace weft::runtime_AtomicFileTest {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A fresh empty directory under the system temp dir.
fs::path tempDir() {
  fs::path d = fs::temp_directory_path() / ("weft-atomic-test-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

} // namespace

TEST_CASE("an atomic write syncs the temporary file, renames it, then syncs the folder") {
  fs::path dir = tempDir();
  std::string path = (dir / "f.bin").string();
  REQUIRE_OK(writeFileAtomically(path, "old"));

  std::vector<AtomicWriteStep> steps;
  auto observe = [&](AtomicWriteStep step, const std::string &tmp) {
    steps.push_back(step);
    CAPTURE(static_cast<int>(step));
    CHECK(fs::path(tmp).parent_path() == dir);
    if (step == AtomicWriteStep::TempSynced) { // the new bytes are whole, the old file intact
      CHECK(slurp(tmp) == "new contents");
      CHECK(slurp(path) == "old");
    }
    if (step == AtomicWriteStep::Renamed)
      CHECK(!fs::exists(tmp));
  };
  REQUIRE_OK(writeFileAtomically(path, "new contents", observe));
  CHECK(steps == std::vector<AtomicWriteStep>{AtomicWriteStep::TempWritten,
                                              AtomicWriteStep::TempSynced, AtomicWriteStep::Renamed,
                                              AtomicWriteStep::FolderSynced});
  CHECK(slurp(path) == "new contents");
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  fs::remove_all(dir);
}

TEST_CASE("an atomic write into a missing folder says which file it could not create") {
  auto s = writeFileAtomically("/nonexistent-weft-dir/f.bin", "x");
  REQUIRE(!s.isOk());
  CHECK(s.diag().message.find("'/nonexistent-weft-dir/f.bin'") != std::string::npos);
}

} // namespace weft::runtime_AtomicFileTest
