//===- tests/unit/cpu/Corpus.h - the IR corpus as parity cases ------------===//
//
// The files of tests/data/corpus, each compiled by every backend, and inputs that are
// valid for every function in them, so that every function runs on both backends and its
// results are compared: none is skipped because its inputs made the interpreter fail.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Parity.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace weft::cputest {

/// One corpus file, compiled.
struct CorpusFile {
  std::string name;
  Compiled compiled;
};

/// Every file of the corpus, compiled. Each one must compile: a file the backend cannot
/// lower fails here, naming the file, rather than being left out of the parity tests.
inline std::vector<CorpusFile> compileCorpus() {
  std::vector<std::filesystem::path> paths;
  for (const auto &entry : std::filesystem::directory_iterator(WEFT_TEST_DATA_DIR "/corpus"))
    paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  std::vector<CorpusFile> files;
  for (const auto &path : paths) {
    CAPTURE(path.string());
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    files.push_back({path.filename().string(), compileText(text.str())});
  }
  REQUIRE(files.size() >= 9);
  return files;
}

/// The number of functions in the corpus: the parity tests compare every one of them.
inline constexpr int64_t kCorpusFunctions = 39;

/// How the corpus uses its integer parameters ("function.param"): divisors must not be 0,
/// indices must be inside their table and scan lengths inside [0, T]. Other integers are drawn
/// from [-50, 50].
enum class IntUse { Divisor, Index, Lengths };
struct CorpusInt {
  IntUse use;
  int64_t tableSize = 0; // Index: the size of the gathered axis
};
inline const std::map<std::string, CorpusInt> kCorpusInts = {
    {"binary.j", {IntUse::Divisor}},           {"embed.ids", {IntUse::Index, 100}},
    {"axis1.i", {IntUse::Index, 10}},          {"decode.tok0", {IntUse::Index, 16}},
    {"masked_reverse.len", {IntUse::Lengths}}, {"lstm_forward.len", {IntUse::Lengths}},
    {"gru_forward.len", {IntUse::Lengths}},    {"rnn_forward.len", {IntUse::Lengths}},
    {"lstm_grad.len", {IntUse::Lengths}},      {"gru_grad.len", {IntUse::Lengths}},
    {"gru_grad_saved.len", {IntUse::Lengths}},
};

/// How `f` uses its parameter `i`, or nullptr for a parameter with no constraint.
inline const CorpusInt *corpusInt(const ir::Function &f, size_t i) {
  auto it = kCorpusInts.find(f.name() + "." + f.param(i)->name());
  return it == kCorpusInts.end() ? nullptr : &it->second;
}

/// The gens for `f`'s parameters under `dims` (T is the time axis of scans).
inline std::map<size_t, ParamGen> corpusGens(const ir::Function &f, const ir::DimBindings &dims) {
  std::map<size_t, ParamGen> gens;
  for (size_t i = 0; i < f.numParams(); ++i) {
    const CorpusInt *use = corpusInt(f, i);
    if (!use)
      continue;
    switch (use->use) {
    case IntUse::Divisor:
      gens[i] = {Gen::NonZero};
      break;
    case IntUse::Index:
      gens[i] = {Gen::Index, use->tableSize};
      break;
    case IntUse::Lengths:
      gens[i] = {Gen::Index, dims.at("T") + 1};
      break;
    }
  }
  return gens;
}

/// The corpus's largest sum is one rnn step's (4 + 8 products of sizes below 4 and 2: 12 terms
/// adding up to 32); its longest chain of libm functions, @unary's, stays within 8 ulps.
inline const Tolerance kCorpusTolerance{.ulps = 8, .roundings = 12, .magnitude = 32};

/// Runs every function of every corpus file on every backend and the interpreter under `dims` with
/// seeded inputs and compares all their results. Returns the number of functions compared.
inline int64_t checkCorpusParity(const std::vector<CorpusFile> &files, const ir::DimBindings &dims,
                                 uint64_t seed) {
  int64_t compared = 0, lengths = 0, partial = 0;
  for (const CorpusFile &file : files) {
    CAPTURE(file.name);
    for (const auto &f : file.compiled.module->functions()) {
      CAPTURE(f->name());
      std::vector<Array> in = randomInputs(*f, dims, corpusGens(*f, dims), seed);
      for (size_t i = 0; i < f->numParams(); ++i) {
        const CorpusInt *use = corpusInt(*f, i);
        if (!use || use->use != IntUse::Lengths)
          continue;
        for (int64_t b = 0; b < in[i].numel(); ++b, ++lengths) {
          int64_t len = in[i].getInt(b);
          partial += len > 0 && len < dims.at("T") ? 1 : 0;
        }
      }
      checkAgainstInterpreter(file.compiled, f->name(), *f, in, dims, kCorpusTolerance);
      ++compared;
    }
  }
  // Some examples stop early: masking is exercised, not only full and empty sequences.
  CHECK(lengths > 0);
  CHECK(partial > 0);
  return compared;
}

} // namespace weft::cputest
